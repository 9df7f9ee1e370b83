#!/usr/bin/env bash
# Coverage-guided fuzzing of Rumor's decoders with SharpFuzz + afl++ (docs/TESTING.md, "Fuzzing").
#
#   scripts/fuzz.sh TARGET [--execs N | --seconds S] [--work DIR]
#   scripts/fuzz.sh list
#
# TARGET is one of the targets in fuzz/Rumor.Fuzz/FuzzTargets.cs: packet, node, stream, compressed,
# envelope, serf (the Serf dialect: msgpack messages, LZW, Serf user messages, stream parsing). The
# script builds fuzz/Rumor.Fuzz into DIR/bin (default /tmp/rumor-fuzz/TARGET), instruments
# Rumor.Core.dll, Rumor.Transport.dll and Rumor.Serf.dll there with `sharpfuzz` (never the normal build
# output), writes seed inputs (valid packets of every message kind) into DIR/in and runs afl-fuzz until
# N executions (-E) or S seconds (-V) have passed (default: 1,000,000 executions). At the end it prints
# the figures from afl's fuzzer_stats and copies any crash or hang into fuzz/findings/TARGET/, where
# FuzzCorpusTests (tests/Rumor.Transport.Tests) replays it in every test run: fix the bug, keep the file.
#
# It installs nothing. It needs: afl-fuzz (Debian/Ubuntu: `apt-get install afl++`, 4.04c here) and the
# SharpFuzz instrumenter (`dotnet tool install -g SharpFuzz.CommandLine --version 2.3.0`, then
# ~/.dotnet/tools on PATH).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGETS="packet node stream compressed envelope serf"

usage() {
    sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
}

[ $# -ge 1 ] || usage
TARGET="$1"
shift
if [ "$TARGET" = "list" ]; then
    echo "$TARGETS"
    exit 0
fi
case " $TARGETS " in
    *" $TARGET "*) ;;
    *) echo "fuzz.sh: unknown target '$TARGET' (targets: $TARGETS)" >&2; exit 2 ;;
esac

LIMIT=(-E 1000000)
WORK="/tmp/rumor-fuzz/$TARGET"
while [ $# -gt 0 ]; do
    case "$1" in
        --execs) LIMIT=(-E "$2"); shift 2 ;;
        --seconds) LIMIT=(-V "$2"); shift 2 ;;
        --work) WORK="$2"; shift 2 ;;
        *) usage ;;
    esac
done

missing=0
if ! command -v afl-fuzz >/dev/null 2>&1; then
    echo "fuzz.sh: afl-fuzz not found. Install afl++ (Debian/Ubuntu: sudo apt-get install afl++)." >&2
    missing=1
fi
SHARPFUZZ="$(command -v sharpfuzz || true)"
if [ -z "$SHARPFUZZ" ] && [ -x "$HOME/.dotnet/tools/sharpfuzz" ]; then
    SHARPFUZZ="$HOME/.dotnet/tools/sharpfuzz"
fi
if [ -z "$SHARPFUZZ" ]; then
    echo "fuzz.sh: sharpfuzz not found. Install it: dotnet tool install -g SharpFuzz.CommandLine --version 2.3.0 (it lands in ~/.dotnet/tools)." >&2
    missing=1
fi
[ "$missing" = 0 ] || exit 2

BIN="$WORK/bin"
rm -rf "$BIN"
mkdir -p "$WORK"
echo "== building fuzz/Rumor.Fuzz into $BIN"
dotnet build "$ROOT/fuzz/Rumor.Fuzz/Rumor.Fuzz.csproj" -c Release -o "$BIN" -nologo -v quiet
# Seeds first: instrumented code only runs under afl-fuzz (it writes to afl's shared memory).
if [ ! -d "$WORK/out/default/queue" ]; then
    rm -rf "$WORK/in"
    dotnet "$BIN/Rumor.Fuzz.dll" seed "$TARGET" "$WORK/in"
    INPUT=(-i "$WORK/in")
else
    echo "== resuming the corpus in $WORK/out"
    INPUT=(-i -)
fi

echo "== instrumenting"
"$SHARPFUZZ" "$BIN/Rumor.Core.dll"
"$SHARPFUZZ" "$BIN/Rumor.Transport.dll"
"$SHARPFUZZ" "$BIN/Rumor.Serf.dll"

echo "== afl-fuzz ${LIMIT[*]} on $TARGET (uptime: $(uptime))"
# dotnet itself is not instrumented (SharpFuzz reports coverage through afl's shared memory):
# skip afl's binary check. No UI (logs), no CPU pinning on a shared machine.
AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 \
AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_AUTORESUME=1 \
    afl-fuzz "${INPUT[@]}" -o "$WORK/out" -t 5000 -m none "${LIMIT[@]}" \
    -- dotnet "$BIN/Rumor.Fuzz.dll" "$TARGET" || true

STATS="$WORK/out/default/fuzzer_stats"
if [ ! -f "$STATS" ]; then
    echo "fuzz.sh: afl-fuzz wrote no statistics ($STATS); see its output above." >&2
    exit 1
fi
echo "== $TARGET figures"
grep -E '^(start_time|last_update|run_time|execs_done|execs_per_sec|corpus_count|bitmap_cvg|saved_crashes|saved_hangs|stability)' "$STATS"

found=0
for dir in crashes hangs; do
    for f in "$WORK/out/default/$dir"/id:*; do
        [ -e "$f" ] || continue
        mkdir -p "$ROOT/fuzz/findings/$TARGET"
        name="$dir-$(sha1sum "$f" | cut -c1-12)"
        cp "$f" "$ROOT/fuzz/findings/$TARGET/$name"
        echo "finding: fuzz/findings/$TARGET/$name (reproduce, uninstrumented: dotnet run --project fuzz/Rumor.Fuzz -c Release -- replay $TARGET $f)"
        found=1
    done
done
if [ "$found" = 1 ]; then
    exit 1
fi
