#!/usr/bin/env bash
# Smoke test of the Native AOT rumor binary (what scripts/publish-agent.sh builds), through its own
# CLI: three agents on 127.0.3.1-3, join, a key set on one read on another, a user event sent on one
# delivered on the others, /metrics (its exporter built at the first scrape), a graceful leave seen as 'left',
# and each agent's release of the executable's start-up-only data (its log line; with packed relocations, that there is none). Prints the binary's size, each agent's
# start-up to a healthy API (GET /v1/health) and the idle resident memory. Exits 0 when every step
# passed, 1 with the failing step and the agents' logs otherwise. Every wait is bounded.
#
#   scripts/aot-smoke.sh [BINARY]     default: publish with scripts/publish-agent.sh into
#                                     artifacts/rumor-linux-x64 first, then test artifacts/rumor-linux-x64/rumor
# Needs curl and jq; loopback 127.0.3.0/24, gossip port 17946 and HTTP port 17373 on each address.
set -euo pipefail

# Seconds (3 decimals) since a $(date +%s.%N) time.
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }'; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${1:-}"
if [[ -z "$bin" ]]; then
  start_publish=$(date +%s.%N)
  bash "$root/scripts/publish-agent.sh" linux-x64 "$root/artifacts/rumor-linux-x64"
  echo "aot-smoke: publish took $(since "$start_publish") s"
  bin="$root/artifacts/rumor-linux-x64/rumor"
fi
[[ -x "$bin" ]] || { echo "aot-smoke: $bin is not an executable" >&2; exit 1; }
command -v curl > /dev/null && command -v jq > /dev/null || { echo "aot-smoke: needs curl and jq" >&2; exit 1; }

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2> /dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "aot-smoke: FAILED: $*" >&2
  for f in "$work"/*.log; do echo "--- $f" >&2; tail -n 30 "$f" >&2; done
  exit 1
}

api() { echo "http://127.0.3.$1:17373"; }
cli() { local k="$1"; shift; timeout 20 "$bin" "$@" --agent "$(api "$k")"; }

# Waits (at most $2 seconds) until the command "$3..." succeeds; false when it never did.
wait_for() {
  local what="$1" limit="$2"; shift 2
  local deadline=$(($(date +%s) + limit))
  until "$@" > /dev/null 2>&1; do
    (($(date +%s) < deadline)) || { echo "aot-smoke: gave up waiting for $what after ${limit}s" >&2; return 1; }
    sleep 0.05
  done
}

echo "aot-smoke: binary $bin, $(stat -c %s "$bin") bytes ($(du -h "$bin" | cut -f1))"
# Packed relocations (publish-agent.sh, RumorPackRelocations) leave no dehydrated data to release:
# then agent 1 runs at debug level, where it says why it kept nothing.
packed=false
readelf -d "$bin" | grep -q '(RELR)' && packed=true
echo "aot-smoke: packed relocations, no dehydrated data: $packed"
for k in 1 2 3; do
  join=() level=()
  [[ $k -gt 1 ]] && join=(--join 127.0.3.1:17946)
  [[ $packed == true && $k -eq 1 ]] && level=(--log-level debug)
  t0=$(date +%s.%N)
  "$bin" agent --name "smoke$k" --bind "127.0.3.$k:17946" --http "127.0.3.$k:17373" "${join[@]}" "${level[@]}" > "$work/agent$k.log" 2>&1 &
  pids+=($!)
  wait_for "agent $k's /v1/health" 30 curl -fsS "$(api $k)/v1/health" || fail "agent $k did not answer /v1/health"
  echo "aot-smoke: agent $k healthy $(since "$t0") s after start"
done

# The executable's start-up-only data (src/Rumor.Agent/StartupDataRelease.cs) is released once the
# API answers; the rest of the smoke test then runs on the agents that released it.
released() { grep -Eq 'Released [0-9]{4,} KiB resident of the executable' "$work/agent$1.log"; }
kept() { grep -q "Kept the executable's start-up-only data: the executable has no dehydrated data" "$work/agent$1.log"; }
if [[ $packed == true ]]; then
  wait_for "agent 1 to say it has no start-up-only data" 10 kept 1 || fail "agent 1 did not log that the executable has no dehydrated data"
  for k in 1 2 3; do ! released "$k" || fail "agent $k released start-up-only data from an executable without any"; done
  echo "aot-smoke: no start-up-only data to release (agent 1: the executable has no dehydrated data)"
else
  for k in 1 2 3; do wait_for "agent $k to release its start-up-only data" 10 released "$k" || fail "agent $k did not log the release of its start-up-only data (>= 1000 KiB)"; done
  echo "aot-smoke: start-up-only data released ($(grep -oE 'Released [0-9]+ KiB' "$work/agent1.log") on agent 1)"
fi

alive3() { [[ $(cli "$1" members --json | jq '[.[] | select(.state == "alive")] | length') == 3 ]]; }
for k in 1 2 3; do wait_for "agent $k to see 3 alive" 30 alive3 "$k" || fail "agent $k does not see 3 alive members"; done
echo "aot-smoke: join ok (every agent sees 3 alive)"

cli 1 kv set smoke-key smoke-value > /dev/null || fail "kv set"
kv_seen() { cli "$1" kv get smoke-key --json | jq -e '.. | strings | select(. == "smoke-value")'; }
for k in 2 3; do wait_for "the key on agent $k" 30 kv_seen "$k" || fail "agent $k never saw smoke-key"; done
echo "aot-smoke: kv ok (set on 1, read on 2 and 3)"

cli 2 event smoke-event smoke-payload > /dev/null || fail "event send"
event_seen() { cli "$1" events --json | jq -e '.[] | select(.name == "smoke-event")'; }
for k in 1 3; do wait_for "the event on agent $k" 30 event_seen "$k" || fail "agent $k never delivered smoke-event"; done
echo "aot-smoke: event ok (sent on 2, delivered on 1 and 3)"

# /metrics: the exporter is built at the first scrape (not at start); it must work in the AOT
# binary and report the gossip counted before it (packets, the members gauge).
metrics_ok() {
  local text
  text=$(curl -fsS "$(api 1)/metrics") || return 1
  grep -Eq '^rumor_packets_sent_total(\{\})? [1-9]' <<< "$text" && grep -q '^rumor_members{state="alive"} 3$' <<< "$text"
}
wait_for "agent 1's /metrics" 30 metrics_ok || fail "agent 1's /metrics lacks rumor_packets_sent_total > 0 or 3 alive: $(curl -sS "$(api 1)/metrics" | head -c 2000)"
echo "aot-smoke: metrics ok (first scrape built the exporter: packets sent > 0, 3 alive)"

sleep 2
rss=$(awk '/VmRSS/ {print $2}' "/proc/${pids[0]}/status")
echo "aot-smoke: agent 1 resident memory (idle, 3 members) $((rss / 1024)) MiB"

cli 3 leave > /dev/null || fail "leave"
left3() { cli 1 members --json | jq -e '.[] | select(.name == "smoke3" and .state == "left")'; }
wait_for "agent 1 to see smoke3 left" 30 left3 || fail "agent 1 does not see smoke3 as left"
gone3() { ! kill -0 "${pids[2]}" 2> /dev/null; }
wait_for "agent 3 to exit" 30 gone3 || fail "agent 3 still runs after leave"
echo "aot-smoke: leave ok (agent 3 exited, agent 1 sees it left)"
echo "aot-smoke: passed"
