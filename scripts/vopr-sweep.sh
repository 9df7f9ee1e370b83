#!/usr/bin/env bash
# A long `rumor vopr` sweep that can be stopped and resumed, across sessions, on the same code.
#
#   scripts/vopr-sweep.sh DIR FIRST LAST [CHUNK [FILTER]]     e.g. scripts/vopr-sweep.sh /work/sweep 1 10000
#
# FILTER (an extended regular expression) runs only the seeds whose draw (`rumor vopr --describe`)
# matches it, e.g. PhiAccrual after a change that only the φ detector's runs can reach; the seeds
# it leaves out keep the result of a sweep on the code before (say which in the notes).
#
# Runs seeds FIRST..LAST in chunks of CHUNK (default 100), one fresh `rumor vopr --seeds A-B
# --parallel 2 --verbose` process per chunk: a single process sweeping thousands of seeds grew a
# 1 GB gen2 heap. Appends every seed's line to DIR/sweep.log and each finished chunk to
# DIR/chunks-done.txt, so a rerun skips what is done (an interrupted chunk is run again whole).
#
# A sweep only counts for the code it ran on: DIR/CODE records the git trees of src/Rumor.Core and
# src/Rumor.Simulation (the kernel, the simulator and the VOPR checker) when the sweep starts, and
# the script refuses to resume in DIR when either tree differs (start a new DIR instead). Changes
# outside those two trees (agent, CLI, Serf dialect, docs) cannot change a seed's outcome.
#
# Prints the running total after each chunk and, last, `N seeds, F failed` over the whole DIR.
# Stop it with Ctrl-C or `touch DIR/STOP` (it stops after the current chunk).
set -euo pipefail

if [[ $# -lt 3 ]]; then
  sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi

dir=$1 first=$2 last=$3 chunk=${4:-100} filter=${5:-}
for n in "$first" "$last" "$chunk"; do
  [[ $n =~ ^[0-9]+$ ]] || { echo "vopr-sweep: '$n' is not a whole number" >&2; exit 2; }
done
(( first >= 1 && last >= first && chunk >= 1 )) || { echo "vopr-sweep: need 1 <= FIRST <= LAST and CHUNK >= 1" >&2; exit 2; }

repo=$(cd "$(dirname "$0")/.." && pwd)
code="core-tree $(git -C "$repo" rev-parse HEAD:src/Rumor.Core) sim-tree $(git -C "$repo" rev-parse HEAD:src/Rumor.Simulation)"
if [[ -n $(git -C "$repo" status --porcelain -- src/Rumor.Core src/Rumor.Simulation) ]]; then
  echo "vopr-sweep: src/Rumor.Core or src/Rumor.Simulation has uncommitted changes; commit them first so the sweep names its code" >&2
  exit 2
fi

mkdir -p "$dir"
if [[ -f $dir/CODE ]]; then
  recorded=$(head -1 "$dir/CODE" | sed 's/^.*\(core-tree [0-9a-f]* sim-tree [0-9a-f]*\).*$/\1/')
  if [[ $recorded != "$code" ]]; then
    echo "vopr-sweep: $dir was swept on other code ($recorded); this checkout has $code. Use a new directory." >&2
    exit 2
  fi
  if [[ $(sed -n 's/^filter //p' "$dir/CODE") != "$filter" ]]; then
    echo "vopr-sweep: $dir was swept with another FILTER ($(sed -n 's/^filter //p' "$dir/CODE")); use a new directory." >&2
    exit 2
  fi
else
  echo "commit $(git -C "$repo" rev-parse HEAD) $code started $(date -u +%FT%TZ)" > "$dir/CODE"
  echo "filter $filter" >> "$dir/CODE"
fi

# A Release build copied aside, so that rebuilding the checkout during the sweep changes nothing.
# The build is bound to the code too: DIR/bin/BUILT holds the trees it was built from, and a bin
# without it, or built from other trees, is refused (a sweep once ran on a bin left in its
# directory by an earlier kernel, so its seeds counted for code they never ran).
bin=$dir/bin
if [[ ! -d $bin ]]; then
  rm -rf "$dir/build"
  dotnet build -c Release "$repo/src/Rumor.Cli" -o "$dir/build" > "$dir/build.log" 2>&1 || { echo "vopr-sweep: build failed, see $dir/build.log" >&2; exit 1; }
  echo "$code" > "$dir/build/BUILT"
  mv "$dir/build" "$bin"
fi
if [[ ! -f $bin/BUILT || $(cat "$bin/BUILT") != "$code" ]]; then
  echo "vopr-sweep: $bin was not built by this script from $code; remove $bin or use a new directory" >&2
  exit 2
fi

touch "$dir/chunks-done.txt"
rm -f "$dir/STOP"
for ((a = first; a <= last; a += chunk)); do
  b=$((a + chunk - 1 > last ? last : a + chunk - 1))
  grep -qxF "$a-$b" "$dir/chunks-done.txt" && continue
  [[ -f $dir/STOP ]] && { echo "vopr-sweep: stopped ($dir/STOP)"; break; }
  seeds="$a-$b"
  if [[ -n $filter ]]; then
    seeds=$(dotnet "$bin/rumor.dll" vopr --seeds "$a-$b" --describe | { grep -E -- "$filter" || true; } | sed -n 's/^seed \([0-9]*\): .*/\1/p' | paste -sd, -)
    if [[ -z $seeds ]]; then
      echo "$a-$b" >> "$dir/chunks-done.txt"
      echo "$a-$b none match $(date -u +%T)" >> "$dir/chunks-log.txt"
      continue
    fi
  fi
  # Each chunk's lines go to a part file first, so an interrupted chunk leaves nothing in the log.
  rc=0
  DOTNET_GCgen0size=0x4000000 dotnet "$bin/rumor.dll" vopr --seeds "$seeds" --parallel 2 --verbose > "$dir/part.log" 2>&1 || rc=$?
  # rumor vopr exits 1 when a seed failed; any other code (130 = interrupted) leaves the chunk undone.
  if [[ $rc -ne 0 && $rc -ne 1 ]]; then
    echo "vopr-sweep: chunk $a-$b ended with exit code $rc; not counted" >&2
    exit "$rc"
  fi
  cat "$dir/part.log" >> "$dir/sweep.log"
  echo "$a-$b" >> "$dir/chunks-done.txt"
  echo "$a-$b exit $rc $(date -u +%T)" >> "$dir/chunks-log.txt"
  echo "vopr-sweep: $a-$b done: $(grep -c ' ok: ' "$dir/sweep.log") passed, $(grep -c '^FAIL seed' "$dir/sweep.log" || true) failed so far"
done

passed=$(grep -c ' ok: ' "$dir/sweep.log" || true)
failed=$(grep -c '^FAIL seed' "$dir/sweep.log" || true)
grep '^FAIL seed' "$dir/sweep.log" || true
echo "$((passed + failed)) seeds, $failed failed"
