#!/usr/bin/env bash
# Chaos on real network stacks: N rumor agents, each in its own Linux network namespace with its
# own IPv4 (and IPv6 ULA) address on a bridge this script creates, netem on every link, partitions
# made with nftables inside the namespaces, and process faults (SIGSTOP pauses, kill -9 and restart
# with the same --data-dir, a mass restart). The agents find each other through a real dnsmasq
# (they start with only --join dns:NAME:PORT). The checker (tools/Rumor.Chaos) runs a workload on
# every agent over HTTP during the faults and judges the history after the heal; its last line is
#   chaos: W writes acknowledged, L lost, R resurrected, membership converged in S s after heal, F false dead
# and this script exits with the checker's code.
#
# Needs root, iproute2 (ip, tc with netem), nftables and dnsmasq. Touches nothing but what it
# creates: namespaces rc<ID>-*, a bridge rcb<ID>, veth pairs, /etc/netns/rc<ID>-* and a work
# directory; all removed on exit, Ctrl+C or failure. Addresses: 10.231.<X>.0/24 and
# fd00:231:<X>::/64, only on that bridge and inside those namespaces.
#
#   bash scripts/netns-chaos.sh --nodes 6 --seconds 90
#   bash scripts/netns-chaos.sh --nodes 30 --seconds 600 --loss 0.05 --delay 50ms --jitter 20ms
set -euo pipefail

NODES=6
DURATION=90
SEED=1
LOSS=0.01
DELAY=5ms
JITTER=2ms
DUPLICATE=0.005
REORDER=0.02
PRESET=lan
SEEDS=dns
KEEP=""
CONVERGE_BOUND=60
OP_INTERVAL_MS=""
EVENT_INTERVAL_MS=""
NO_BUILD=0

usage() {
  sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
  cat <<EOF
options:
  --nodes N            agents (default $NODES; at least 4)
  --seconds S          faults and workload last S seconds (default $DURATION; at least 40)
  --seed K             the fault schedule and workload derive from K (default $SEED)
  --loss P             datagram loss on every link, a fraction (default $LOSS)
  --delay D --jitter J netem delay and jitter on every link (default $DELAY, $JITTER)
  --duplicate P        duplication, a fraction (default $DUPLICATE)
  --reorder P          reordering, a fraction (default $REORDER)
  --preset P           the agents' timings: lan (default), wan or local
  --seeds dns|static   join through dnsmasq (default) or through a static list of addresses
  --converge-bound S   membership must converge within S s of the heal (default $CONVERGE_BOUND)
  --keep DIR           keep logs and the judged history in DIR
  --no-build           use the binaries already built (Release)
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) NODES="$2"; shift 2 ;;
    --seconds) DURATION="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --loss) LOSS="$2"; shift 2 ;;
    --delay) DELAY="$2"; shift 2 ;;
    --jitter) JITTER="$2"; shift 2 ;;
    --duplicate) DUPLICATE="$2"; shift 2 ;;
    --reorder) REORDER="$2"; shift 2 ;;
    --preset) PRESET="$2"; shift 2 ;;
    --seeds) SEEDS="$2"; shift 2 ;;
    --converge-bound) CONVERGE_BOUND="$2"; shift 2 ;;
    --op-interval-ms) OP_INTERVAL_MS="$2"; shift 2 ;;
    --event-interval-ms) EVENT_INTERVAL_MS="$2"; shift 2 ;;
    --keep) KEEP="$2"; shift 2 ;;
    --no-build) NO_BUILD=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "netns-chaos: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

die() { echo "netns-chaos: $*" >&2; exit 1; }
[ "$NODES" -ge 4 ] || die "--nodes must be at least 4"
[ "$NODES" -le 200 ] || die "--nodes must be at most 200"
[ "$DURATION" -ge 40 ] || die "--seconds must be at least 40"
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, tc, nftables)"
for tool in ip tc nft curl dotnet; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is missing: apt-get install -y iproute2 nftables curl (and the .NET SDK)"
done
if [ "$SEEDS" = dns ]; then
  command -v dnsmasq >/dev/null 2>&1 || die "'dnsmasq' is missing: apt-get install -y dnsmasq (or pass --seeds static)"
fi
pct() { awk -v p="$1" 'BEGIN { printf "%.4f%%", p * 100 }'; }

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ID=$(( $$ % 200 + 20 ))
NET="10.231.$ID"
NET6="fd00:231:$ID"
BR="rcb$ID"
NS="rc$ID"
WORK="$(mktemp -d /tmp/netns-chaos.XXXXXX)"
# The agents listen beyond loopback, so their HTTP API requires a management token
# (docs/SECURITY.md): the agents, curl and the checker all read it from RUMOR_TOKEN.
RUMOR_TOKEN="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export RUMOR_TOKEN
FAULTS="$WORK/faults.log"
CHECKER_PID=""
DNS_PID=""
: > "$FAULTS"

ip link show "$BR" >/dev/null 2>&1 && die "bridge $BR exists already (another run with the same id?)"

cleanup() {
  local code=$?
  trap - EXIT INT TERM
  set +e
  [ -n "$CHECKER_PID" ] && kill "$CHECKER_PID" 2>/dev/null
  for ((i = 0; i < NODES; i++)); do
    if [ -f "$WORK/n$i.pid" ]; then
      local pid; pid=$(cat "$WORK/n$i.pid")
      kill -CONT "$pid" 2>/dev/null; kill -9 "$pid" 2>/dev/null
    fi
  done
  [ -n "$DNS_PID" ] && kill "$DNS_PID" 2>/dev/null
  sleep 0.3
  for ((i = 0; i < NODES; i++)); do
    ip netns del "$NS-n$i" 2>/dev/null
    rm -rf "/etc/netns/$NS-n$i"
  done
  ip netns del "$NS-dns" 2>/dev/null
  ip netns del "$NS-probe" 2>/dev/null
  ip link del "$BR" 2>/dev/null
  if [ -n "$KEEP" ]; then
    mkdir -p "$KEEP" && cp -r "$WORK"/. "$KEEP"/ && echo "netns-chaos: logs kept in $KEEP"
  fi
  rm -rf "$WORK"
  exit "$code"
}
trap cleanup EXIT
trap 'echo "netns-chaos: interrupted" >&2; exit 130' INT TERM

# ---- build once ----
if [ "$NO_BUILD" -eq 0 ]; then
  echo "netns-chaos: building the agent and the checker (Release)"
  dotnet build -c Release "$ROOT/src/Rumor.Cli" -v q -nologo >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; die "build of src/Rumor.Cli failed"; }
  dotnet build -c Release "$ROOT/tools/Rumor.Chaos" -v q -nologo >>"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; die "build of tools/Rumor.Chaos failed"; }
fi
RUMOR="$ROOT/src/Rumor.Cli/bin/Release/net10.0/rumor.dll"
CHECKER="$ROOT/tools/Rumor.Chaos/bin/Release/net10.0/rumor-chaos.dll"
[ -f "$RUMOR" ] && [ -f "$CHECKER" ] || die "missing $RUMOR or $CHECKER (build them, or drop --no-build)"

# ---- the network ----
addr() { echo "$NET.$(( $1 + 10 ))"; }
addr6() { echo "$NET6::$(( $1 + 10 ))"; }
ip link add "$BR" type bridge
ip addr add "$NET.1/24" dev "$BR"
ip -6 addr add "$NET6::1/64" dev "$BR" nodad
ip link set "$BR" up

LOSS_PCT=$(pct "$LOSS"); DUP_PCT=$(pct "$DUPLICATE"); REORDER_PCT=$(pct "$REORDER")
ppm() { awk -v p="$1" 'BEGIN { printf "%d", p * 1000000 }'; }
LOSS_PPM=$(ppm "$LOSS"); DUP_PPM=$(ppm "$DUPLICATE"); REORDER_PPM=$(ppm "$REORDER")
# Does this kernel have netem? (Some VM kernels ship without sch_netem and without modules.)
ip netns add "$NS-probe"
if ip netns exec "$NS-probe" tc qdisc add dev lo root netem delay 1ms >/dev/null 2>&1; then NETEM=yes; else NETEM=no; fi
ip netns del "$NS-probe"
if [ "$NETEM" = no ]; then
  echo "netns-chaos: WARNING: this kernel has no sch_netem (tc netem): delay $DELAY and jitter $JITTER are NOT applied;" \
    "loss and duplication come from nftables (numgen random), reordering from a slow HTB side class" >&2
fi
attach_ns() { # name index-on-bridge ipv4 ipv6
  local ns="$1" veth="$2" a4="$3" a6="$4"
  ip netns add "$ns"
  ip link add "$veth" type veth peer name "${veth}p"
  ip link set "${veth}p" netns "$ns"
  ip link set "$veth" master "$BR" up
  ip -n "$ns" link set lo up
  ip -n "$ns" link set "${veth}p" name eth0
  ip -n "$ns" addr add "$a4/24" dev eth0
  ip -n "$ns" -6 addr add "$a6/64" dev eth0 nodad
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add default via "$NET.1" 2>/dev/null || true
}

for ((i = 0; i < NODES; i++)); do
  attach_ns "$NS-n$i" "rc${ID}v$i" "$(addr "$i")" "$(addr6 "$i")"
  # The partitions' table: the "in" chain's rules come and go during the run.
  ip netns exec "$NS-n$i" nft -f - <<EOF
table inet rchaos {
  chain in { type filter hook input priority 0; policy accept; }
  chain out { type filter hook output priority 0; policy accept; }
}
EOF
  if [ "$NETEM" = yes ]; then
    # netem on the namespace's egress: every packet a node sends passes its own netem once.
    ip netns exec "$NS-n$i" tc qdisc add dev eth0 root netem limit 10000 delay "$DELAY" "$JITTER" distribution normal \
      loss "$LOSS_PCT" duplicate "$DUP_PCT" reorder "$REORDER_PCT" 50%
  else
    # No sch_netem in this kernel: loss and duplication by nftables on the egress (to the other
    # agents only), reordering by sending a random share of packets through a slow HTB class.
    ip netns exec "$NS-n$i" nft add rule inet rchaos out ip daddr != "$NET.1" numgen random mod 1000000 "<" "$LOSS_PPM" drop
    ip netns exec "$NS-n$i" nft add rule inet rchaos out ip daddr != "$NET.1" numgen random mod 1000000 "<" "$REORDER_PPM" meta priority set "1:20"
    ip netns exec "$NS-n$i" nft -f - <<EOF
table netdev rchaosdup {
  chain eg { type filter hook egress device "eth0" priority 0; policy accept; ip daddr != $NET.1 numgen random mod 1000000 < $DUP_PPM dup to "eth0"; }
}
EOF
    ip netns exec "$NS-n$i" tc qdisc add dev eth0 root handle 1: htb default 10
    ip netns exec "$NS-n$i" tc class add dev eth0 parent 1: classid 1:10 htb rate 1gbit quantum 60000
    ip netns exec "$NS-n$i" tc class add dev eth0 parent 1: classid 1:20 htb rate 256kbit ceil 256kbit quantum 1514
  fi
  mkdir -p "$WORK/data/n$i"
done

JOIN=()
if [ "$SEEDS" = dns ]; then
  attach_ns "$NS-dns" "rc${ID}vd" "$NET.2" "$NET6::2"
  : > "$WORK/hosts"
  for ((i = 0; i < NODES; i++)); do
    echo "$(addr "$i") rumor.chaos" >> "$WORK/hosts"
    echo "$(addr6 "$i") rumor.chaos" >> "$WORK/hosts"
    mkdir -p "/etc/netns/$NS-n$i"
    echo "nameserver $NET.2" > "/etc/netns/$NS-n$i/resolv.conf"
  done
  ip netns exec "$NS-dns" dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
    --addn-hosts="$WORK/hosts" --listen-address="$NET.2" --bind-interfaces --local-ttl=1 --user=root --log-queries \
    --log-facility="$WORK/dnsmasq.log" --pid-file="$WORK/dnsmasq.pid" &
  DNS_PID=$!
  JOIN=(--join "dns:rumor.chaos:7946")
else
  for ((i = 0; i < NODES; i++)); do JOIN+=(--join "$(addr "$i"):7946"); done
fi

start_agent() { # index
  local i="$1"
  local join=("${JOIN[@]}")
  if [ "$SEEDS" = static ]; then # every other member, so a restarted one finds somebody
    join=(); for ((j = 0; j < NODES; j++)); do [ "$j" -ne "$i" ] && join+=(--join "$(addr "$j"):7946"); done
    [ "${2:-}" = first ] && join=()
  fi
  ip netns exec "$NS-n$i" env DOTNET_gcServer=0 DOTNET_TieredPGO=0 DOTNET_GCHeapHardLimit=0x10000000 \
    dotnet "$RUMOR" agent --name "n$i" --bind "$(addr "$i"):7946" --http "$(addr "$i"):7373" \
    --preset "$PRESET" --data-dir "$WORK/data/n$i" "${join[@]}" >>"$WORK/n$i.log" 2>&1 &
  echo $! > "$WORK/n$i.pid"
  disown $! # killed on purpose during the run: no "Killed" notices from bash
}

wait_healthy() { # index; bounded
  local i="$1"
  for ((t = 0; t < 120; t++)); do
    curl -sf --max-time 1 "http://$(addr "$i"):7373/v1/health" >/dev/null 2>&1 && return 0
    if ! kill -0 "$(cat "$WORK/n$i.pid")" 2>/dev/null; then
      echo "netns-chaos: agent n$i exited:" >&2; tail -n 20 "$WORK/n$i.log" >&2; return 1
    fi
    sleep 0.5
  done
  echo "netns-chaos: agent n$i not healthy within 60 s" >&2; tail -n 20 "$WORK/n$i.log" >&2
  return 1
}

if [ "$NETEM" = yes ]; then links="netem delay $DELAY jitter $JITTER"; else links="no netem: no delay"; fi
echo "netns-chaos: $NODES agents on $NET.0/24 and $NET6::/64 (bridge $BR), $links, loss $LOSS_PCT duplicate $DUP_PCT reorder $REORDER_PCT, preset $PRESET, seeds $SEEDS, seed $SEED"
start_agent 0 first
wait_healthy 0 || die "the first agent did not start"
for ((i = 1; i < NODES; i++)); do start_agent "$i"; sleep 0.2; done
for ((i = 1; i < NODES; i++)); do wait_healthy "$i" || die "agent n$i did not start"; done

# Wait (bounded) until every agent sees every member alive before the faults start.
formed=0
for ((t = 0; t < 120; t++)); do
  formed=1
  for ((i = 0; i < NODES; i++)); do
    n=$(curl -sf --max-time 2 -H "Authorization: Bearer $RUMOR_TOKEN" "http://$(addr "$i"):7373/v1/members?state=alive" | grep -o '"name"' | wc -l) || n=0
    [ "$n" -eq "$NODES" ] || { formed=0; break; }
  done
  [ "$formed" -eq 1 ] && break
  sleep 1
done
[ "$formed" -eq 1 ] || die "the cluster did not form within 120 s"
echo "netns-chaos: the cluster formed: every agent sees $NODES alive"

# ---- the fault schedule, derived from the seed ----
# Pauses outlast the suspicion timeout: LAN's is 4 x max(1, log10 N) x 1 s at the least (and up to 6
# times that while few members confirm the suspicion); a pause lasts at least 3 x the least.
PAUSE_MIN=$(awk -v n="$NODES" 'BEGIN { l = log(n) / log(10); if (l < 1) l = 1; printf "%d", 3 * 4 * l + 1 }')
RANDOM=$SEED
pick() { echo $(( RANDOM % NODES )); }
pick_other() { local o; while :; do o=$(pick); [ "$o" -ne "$1" ] && { echo "$o"; return; }; done; }
SCHEDULE=()
t=10
kinds=(pause kill split sym oneway mass)
# Every kind once, in a seeded order, then random kinds while time remains.
for ((k = ${#kinds[@]} - 1; k > 0; k--)); do j=$(( RANDOM % (k + 1) )); tmp=${kinds[$k]}; kinds[$k]=${kinds[$j]}; kinds[$j]=$tmp; done
idx=0
while :; do
  # After the first pass no more mass restarts: one is enough, and with many agents each takes long.
  if [ "$idx" -lt "${#kinds[@]}" ]; then kind=${kinds[$idx]}; else others=(pause kill split sym oneway); kind=${others[$(( RANDOM % 5 ))]}; fi
  idx=$((idx + 1))
  case "$kind" in
    pause) len=$(( PAUSE_MIN + RANDOM % 4 )); a=$(pick); entry="$t pause $len n$a" ;;
    kill) len=$(( 3 + RANDOM % 4 )); a=$(pick); entry="$t kill $len n$a" ;;
    split) len=$(( 8 + RANDOM % 5 )); entry="$t split $len" ;;
    sym) len=$(( 6 + RANDOM % 5 )); a=$(pick); b=$(pick_other "$a"); entry="$t sym $len n$a n$b" ;;
    oneway) len=$(( 6 + RANDOM % 5 )); a=$(pick); b=$(pick_other "$a"); entry="$t oneway $len n$a n$b" ;;
    mass) len=2; entry="$t mass $len" ;;
  esac
  # A fault's effects need time to settle: 4 s between two faults (a mass restart needs more).
  gap=4; [ "$kind" = mass ] && gap=10
  [ $(( t + len + gap )) -le "$DURATION" ] || { [ "$idx" -gt 40 ] && break; [ "$idx" -ge "${#kinds[@]}" ] && break; continue; }
  SCHEDULE+=("$entry")
  t=$(( t + len + gap ))
done
echo "netns-chaos: fault schedule (seed $SEED; seconds from the start of the workload):"
for entry in "${SCHEDULE[@]}"; do echo "  +$entry" | sed 's/^  +\([0-9]*\) \([a-z]*\) \([0-9]*\)/  +\1s \2 for \3s/'; done
HALF=$(( NODES / 2 ))
split_a=""; split_b=""
for ((i = 0; i < NODES; i++)); do if [ "$i" -lt "$HALF" ]; then split_a+="n$i,"; else split_b+="n$i,"; fi; done

fault() { echo "$*" >> "$FAULTS"; }
node_index() { echo "${1#n}"; }
drop_from() { # in namespace of node $1, drop everything from node $2
  ip netns exec "$NS-n$1" nft add rule inet rchaos in ip saddr "$(addr "$2")" drop
  ip netns exec "$NS-n$1" nft add rule inet rchaos in ip6 saddr "$(addr6 "$2")" drop
}
heal_partitions() { # every namespace at once: one by one took seconds with many agents on a busy machine
  local pids=()
  for ((i = 0; i < NODES; i++)); do ip netns exec "$NS-n$i" nft flush chain inet rchaos in & pids+=($!); done
  wait "${pids[@]}"
  fault heal-partition
}
restart() { # index
  start_agent "$1"
  wait_healthy "$1" || die "agent n$1 did not come back"
  fault up "n$1"
}

# ---- run: the checker's workload, and the faults ----
AGENTS=()
for ((i = 0; i < NODES; i++)); do AGENTS+=(--agent "n$i=http://$(addr "$i"):7373"); done
OPS=${OP_INTERVAL_MS:-$(( NODES <= 10 ? 250 : NODES * 40 ))}
EVS=${EVENT_INTERVAL_MS:-$(( DURATION * NODES * 1000 / 700 ))}
[ "$EVS" -ge 1000 ] || EVS=1000
dotnet "$CHECKER" "${AGENTS[@]}" --faults "$FAULTS" --seed "$SEED" --loss "$LOSS" \
  --op-interval-ms "$OPS" --event-interval-ms "$EVS" --converge-bound-s "$CONVERGE_BOUND" \
  --max-run-s $(( DURATION + 900 )) --history "$WORK/history.txt" &
CHECKER_PID=$!

START=$SECONDS
for entry in "${SCHEDULE[@]}"; do
  read -r at kind len a b <<<"$entry"
  while [ $(( SECONDS - START )) -lt "$at" ]; do sleep 0.2; done
  # Running late (a slow restart of many agents): drop what no longer fits before the end.
  if [ $(( SECONDS - START + len )) -gt "$DURATION" ]; then echo "netns-chaos: +$(( SECONDS - START ))s skipping $kind (late)"; continue; fi
  echo "netns-chaos: +$(( SECONDS - START ))s $kind ${a:-} ${b:-} for ${len}s"
  case "$kind" in
    pause)
      i=$(node_index "$a"); fault pause "$a"; kill -STOP "$(cat "$WORK/n$i.pid")"
      sleep "$len"; kill -CONT "$(cat "$WORK/n$i.pid")"; fault resume "$a" ;;
    kill)
      i=$(node_index "$a"); fault down "$a"; kill -9 "$(cat "$WORK/n$i.pid")"
      sleep "$len"; restart "$i" ;;
    mass)
      all=(); for ((i = 0; i < NODES; i++)); do all+=("n$i"); done
      fault down "${all[@]}"
      for ((i = 0; i < NODES; i++)); do kill -9 "$(cat "$WORK/n$i.pid")"; done
      sleep "$len"
      for ((i = 0; i < NODES; i++)); do
        if [ "$SEEDS" = static ] && [ "$i" -eq 0 ]; then start_agent 0 first; else start_agent "$i"; fi
      done
      for ((i = 0; i < NODES; i++)); do wait_healthy "$i" || die "agent n$i did not come back"; fault up "n$i"; done ;;
    sym)
      fault partition sym "$a" "$b"
      drop_from "$(node_index "$a")" "$(node_index "$b")"; drop_from "$(node_index "$b")" "$(node_index "$a")"
      sleep "$len"; heal_partitions ;;
    oneway)
      # Everything a sends to b is dropped (b hears nothing from a; a still hears b).
      fault partition oneway "$a" "$b"
      drop_from "$(node_index "$b")" "$(node_index "$a")"
      sleep "$len"; heal_partitions ;;
    split)
      fault partition split "${split_a%,}" "${split_b%,}"
      # One nft command per namespace (a set of the other half's addresses): with many agents,
      # one command per pair took longer to apply than the split was meant to last.
      for ((i = 0; i < NODES; i++)); do
        v4=(); v6=()
        for ((j = 0; j < NODES; j++)); do
          if [ $(( i < HALF )) -ne $(( j < HALF )) ]; then v4+=("$(addr "$j")"); v6+=("$(addr6 "$j")"); fi
        done
        ip netns exec "$NS-n$i" nft -f - <<EOF
add rule inet rchaos in ip saddr { $(IFS=,; echo "${v4[*]}") } drop
add rule inet rchaos in ip6 saddr { $(IFS=,; echo "${v6[*]}") } drop
EOF
      done
      sleep "$len"; heal_partitions ;;
  esac
  kill -0 "$CHECKER_PID" 2>/dev/null || die "the checker exited early"
done
while [ $(( SECONDS - START )) -lt "$DURATION" ]; do sleep 0.5; done

# ---- heal everything ----
for ((i = 0; i < NODES; i++)); do
  ip netns exec "$NS-n$i" nft flush chain inet rchaos in
  kill -CONT "$(cat "$WORK/n$i.pid")" 2>/dev/null || true
  kill -0 "$(cat "$WORK/n$i.pid")" 2>/dev/null || restart "$i"
done
fault healed
echo "netns-chaos: +$(( SECONDS - START ))s healed; the checker judges"
set +e
# Bounded: the checker's own bounds (3 x converge bound) plus margin.
for ((t = 0; t < (3 * CONVERGE_BOUND + 120) * 2; t++)); do
  kill -0 "$CHECKER_PID" 2>/dev/null || break
  sleep 0.5
done
if kill -0 "$CHECKER_PID" 2>/dev/null; then
  kill "$CHECKER_PID"; die "the checker did not finish in time"
fi
wait "$CHECKER_PID"
code=$?
CHECKER_PID=""
exit "$code"
