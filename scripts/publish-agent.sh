#!/usr/bin/env bash
# Publishes the rumor command (agent and CLI in one binary) self-contained for one runtime, so the
# target machine needs no .NET installed: copy the output directory, run ./rumor.
#
#   scripts/publish-agent.sh [RID] [OUTPUT]     defaults: linux-x64, artifacts/rumor-<RID>
#
# Then, for example: sudo install -m 0755 -d /opt/rumor && sudo cp -r artifacts/rumor-linux-x64/. /opt/rumor/
# and deploy/rumor-agent.service for systemd (see docs/OPERATIONS.md).
set -euo pipefail

rid="${1:-linux-x64}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${2:-$root/artifacts/rumor-$rid}"

# PackAsTool (the dotnet tool package) and a self-contained publish for one runtime do not mix:
# turn the tool packaging off for this build only.
dotnet publish "$root/src/Rumor.Cli" -c Release -r "$rid" --self-contained \
  -p:PackAsTool=false -p:PublishSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true \
  -p:DebugType=embedded -o "$out"

# A published binary that cannot print its help is not worth shipping: check it runs (when it can run here).
if [[ "$rid" == "$(dotnet --info | awk '/^ RID:/ {print $2; exit}')" ]]; then
  "$out/rumor" --help > /dev/null
  echo "verified: $out/rumor --help runs"
fi
echo "published $out ($(du -sh "$out" | cut -f1))"
