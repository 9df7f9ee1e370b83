#!/usr/bin/env bash
# Checks what can be checked of deploy/kubernetes/rumor.yaml and deploy/docker/Dockerfile without a
# cluster or a container engine: the YAML parses (python3 + PyYAML) into the expected objects; the
# container's exact command line (and the Dockerfile's ENTRYPOINT + CMD) starts the built agent,
# whose /v1/health (the probes' path) answers 200, given the Secrets' variables (a fresh key and
# token); the exact preStop command leaves, after which the agent exits 0 by itself; the Dockerfile's
# command answers /v1/health and SIGTERM stops it with exit 0. The agent runs in
# a network namespace of its own with only loopback (so binding 0.0.0.0 reaches nothing else), its
# pod DNS name mapped to 127.0.0.1 through /etc/netns/<ns>/hosts (for the Dockerfile's command, which
# advertises the first non-loopback address, a bridge inside that namespace gets 10.231.250.1).
# Needs root. Cleans up on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
RUMOR="$ROOT/src/Rumor.Cli/bin/Release/net10.0/rumor.dll"
[ -f "$RUMOR" ] || { echo "check-manifests: build first: dotnet build -c Release src/Rumor.Cli" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "check-manifests: needs root (a network namespace)" >&2; exit 1; }
python3 -c 'import yaml' 2>/dev/null || { echo "check-manifests: needs python3 with PyYAML" >&2; exit 1; }

NS="rck$$"
WORK="$(mktemp -d /tmp/rumor-k8s.XXXXXX)"
PID=""
cleanup() {
  set +e
  [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
  ip netns del "$NS" 2>/dev/null
  rm -rf "/etc/netns/$NS" "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The manifests: parse, and print the container's command and preStop as NUL-separated words.
python3 - "$ROOT/deploy/kubernetes/rumor.yaml" "$WORK" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
kinds = sorted(d["kind"] for d in docs)
assert kinds == ["NetworkPolicy", "PodDisruptionBudget", "Service", "StatefulSet"], kinds
svc = next(d for d in docs if d["kind"] == "Service")
assert svc["spec"]["clusterIP"] == "None", "the Service must be headless"
sts = next(d for d in docs if d["kind"] == "StatefulSet")
assert sts["spec"]["serviceName"] == svc["metadata"]["name"]
c = sts["spec"]["template"]["spec"]["containers"][0]
for probe in ("readinessProbe", "livenessProbe"):
    assert c[probe]["httpGet"]["path"] == "/v1/health", probe
env = {e["name"]: e for e in c["env"]}
assert env["RUMOR_ENCRYPTKEY"]["valueFrom"]["secretKeyRef"]["name"] == "rumor-gossip"
assert env["RUMOR_TOKEN"]["valueFrom"]["secretKeyRef"]["name"] == "rumor-api"
# Every variable filled from a Secret, for the check to give a value of its own.
open(sys.argv[2] + "/secrets", "w").write("\n".join(
    n for n, e in env.items() if "secretKeyRef" in e.get("valueFrom", {})) + "\n")
pdb = next(d for d in docs if d["kind"] == "PodDisruptionBudget")
assert pdb["spec"]["selector"] == sts["spec"]["selector"]
subst = {"$(POD_NAME)": "rumor-0", "$(POD_NAMESPACE)": "default", "$(POD_IP)": "127.0.0.1"}
def words(ws):
    out = []
    for w in ws:
        for k, v in subst.items():
            w = w.replace(k, v)
        out.append(w)
    return out
open(sys.argv[2] + "/command", "w").write("\0".join(words(c["command"] + c["args"])))
open(sys.argv[2] + "/prestop", "w").write("\0".join(words(c["lifecycle"]["preStop"]["exec"]["command"])))
print("check-manifests: YAML parses: " + ", ".join(kinds))
PY

ip netns add "$NS"
ip -n "$NS" link set lo up
mkdir -p "/etc/netns/$NS"
printf '127.0.0.1 localhost\n127.0.0.1 rumor-headless.default.svc.cluster.local\n' > "/etc/netns/$NS/hosts"

# /app/rumor.dll is the built rumor.dll; /var/lib/rumor (the volume) a temporary directory.
localize() { sed -e "s#/app/rumor.dll#$RUMOR#g" -e "s#/var/lib/rumor#$WORK/data#g"; }
health() { ip netns exec "$NS" curl -s -o /dev/null -w '%{http_code}' --max-time 2 http://127.0.0.1:7373/v1/health || true; }
wait_health() { # expected code; bounded 30 s
  for ((i = 0; i < 60; i++)); do [ "$(health)" = "$1" ] && return 0; sleep 0.5; done
  echo "check-manifests: /v1/health never answered $1 (last: $(health))" >&2; cat "$WORK/agent.log" >&2; return 1
}
run_agent() { # words from file $1
  mapfile -d '' -t cmd < <(localize < "$1")
  echo "check-manifests: running ${cmd[*]}"
  ip netns exec "$NS" "${cmd[@]}" > "$WORK/agent.log" 2>&1 &
  PID=$!
}

# The Secrets' values: a fresh gossip key and API token (the same `rumor keygen` an operator runs).
KEY="$(dotnet "$RUMOR" keygen)"
for name in $(cat "$WORK/secrets"); do
  case "$name" in
    RUMOR_ENCRYPTKEY) export RUMOR_ENCRYPTKEY="$KEY" ;;
    RUMOR_TOKEN) export RUMOR_TOKEN="$(dotnet "$RUMOR" keygen)" ;;
    *) echo "check-manifests: the StatefulSet reads $name from a Secret; this check does not know it" >&2; exit 1 ;;
  esac
done
echo "check-manifests: Secrets given: $(tr '\n' ' ' < "$WORK/secrets")"

mkdir -p "$WORK/data"
run_agent "$WORK/command"
wait_health 200
mapfile -d '' -t prestop < <(localize < "$WORK/prestop")
echo "check-manifests: preStop ${prestop[*]}"
ip netns exec "$NS" timeout 30 "${prestop[@]}"
# `rumor leave` stops the agent after the leave (the kubelet's SIGTERM then finds it gone): it must
# exit 0 by itself, within 20 s; SIGTERM (what the kubelet sends next) is the fallback.
for ((i = 0; i < 40; i++)); do kill -0 "$PID" 2>/dev/null || break; sleep 0.5; done
if kill -0 "$PID" 2>/dev/null; then
  echo "check-manifests: the agent still runs 20 s after preStop's leave" >&2; cat "$WORK/agent.log" >&2; exit 1
fi
set +e; wait "$PID"; code=$?; set -e
PID=""
[ "$code" -eq 0 ] || { echo "check-manifests: the agent exited $code after preStop's leave" >&2; cat "$WORK/agent.log" >&2; exit 1; }
grep -q "stopped" "$WORK/agent.log" || { echo "check-manifests: no 'stopped' line in the agent's log" >&2; cat "$WORK/agent.log" >&2; exit 1; }
echo "check-manifests: the StatefulSet's command starts the agent (encrypted, with a token), /v1/health 200, preStop leaves and the agent exits 0"

# The Dockerfile's ENTRYPOINT + CMD.
python3 - "$ROOT/deploy/docker/Dockerfile" "$WORK" <<'PY'
import sys, json, re
text = open(sys.argv[1]).read()
entry = json.loads(re.search(r'^ENTRYPOINT (\[.*\])$', text, re.M).group(1))
cmd = json.loads(re.search(r'^CMD (\[.*\])$', text, re.M).group(1))
assert re.search(r'^USER 10001', text, re.M), "non-root user"
assert "HEALTHCHECK" in text and "/v1/health" in text
open(sys.argv[2] + "/docker", "w").write("\0".join(entry + cmd + ["--data-dir", "/var/lib/rumor/docker"]))
PY
# Without --advertise the agent advertises the host's first non-loopback address (a container
# always has one); give the namespace one, on a bridge inside it, so 0.0.0.0 has something to advertise.
ip -n "$NS" link add rckbr type bridge
ip -n "$NS" addr add 10.231.250.1/24 dev rckbr
ip -n "$NS" link set rckbr up
run_agent "$WORK/docker"
wait_health 200
kill -TERM "$PID"
for ((i = 0; i < 40; i++)); do kill -0 "$PID" 2>/dev/null || break; sleep 0.5; done
set +e; wait "$PID"; code=$?; set -e
PID=""
[ "$code" -eq 0 ] || { echo "check-manifests: the Dockerfile's command exited $code after SIGTERM" >&2; cat "$WORK/agent.log" >&2; exit 1; }
echo "check-manifests: the Dockerfile's ENTRYPOINT + CMD starts the agent, /v1/health 200, SIGTERM exits 0"
echo "check-manifests: ok"
