#!/usr/bin/env bash
# Publishes the rumor command (agent and CLI in one binary) as a Native AOT executable for one
# runtime: one native file, no .NET needed on the target machine, no JIT at start-up. Copy
# $OUTPUT/rumor, run it. The AOT toolchain needs clang and zlib (apt-get install -y clang zlib1g-dev).
# Every trim or AOT warning fails the publish (TreatWarningsAsErrors). rumor.dbg beside it holds
# the native debug symbols (not needed to run).
#
# RUMOR_PUBLISH_JIT=1 publishes the former way instead: self-contained single file with the JIT
# (no clang needed; slower start, more memory). RUMOR_PUBLISH_RELR=1 links the runtime's type data
# with packed relocations instead of dehydrated: a tenth less CPU per start, but glibc 2.36+ needed
# where it runs (docs/CONFIGURATION.md, "Runtime settings of the rumor process").
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
if [[ "${RUMOR_PUBLISH_JIT:-0}" == "1" ]]; then
  dotnet publish "$root/src/Rumor.Cli" -c Release -r "$rid" --self-contained \
    -p:PackAsTool=false -p:PublishSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true \
    -p:DebugType=embedded -o "$out"
else
  if ! command -v clang > /dev/null; then
    echo "publish-agent.sh: Native AOT needs clang and zlib: apt-get install -y clang zlib1g-dev (or RUMOR_PUBLISH_JIT=1)" >&2
    exit 1
  fi
  # RUMOR_PUBLISH_RELR=1: packed relocations instead of dehydrated type data
  # (src/Rumor.Cli/Rumor.Cli.csproj, RumorPackRelocations): about a tenth less CPU per start, but
  # the binary then needs glibc 2.36 or later where it runs (not Ubuntu 22.04 or RHEL 9, which the
  # default layout's glibc 2.34 covers), so it is opt-in. Only for this machine's own runtime, with
  # glibc 2.36+ here and a linker that knows -z pack-relative-relocs (GNU ld 2.38+).
  pack=false
  if [[ "${RUMOR_PUBLISH_RELR:-0}" == "1" ]]; then
    glibc="$(getconf GNU_LIBC_VERSION 2> /dev/null | awk '{print $2}')"
    if [[ "$rid" != "$(dotnet --info | awk '/^ RID:/ {print $2; exit}')" ]]; then
      echo "publish-agent.sh: RUMOR_PUBLISH_RELR=1 is for this machine's own runtime only, not $rid" >&2
      exit 1
    elif [[ -z "$glibc" ]] || ! printf '2.36\n%s\n' "$glibc" | sort -C -V; then
      echo "publish-agent.sh: RUMOR_PUBLISH_RELR=1 needs glibc 2.36 or later here (found: ${glibc:-none})" >&2
      exit 1
    elif ! ld --help 2> /dev/null | grep -q pack-relative-relocs; then
      echo "publish-agent.sh: RUMOR_PUBLISH_RELR=1 needs a linker that knows -z pack-relative-relocs (GNU ld 2.38+)" >&2
      exit 1
    fi
    pack=true
  fi
  if [[ $pack == true ]]; then
    echo "publish-agent.sh: type data as packed relocations (RUMOR_PUBLISH_RELR=1): the binary needs glibc 2.36+ where it runs"
  fi
  dotnet publish "$root/src/Rumor.Cli" -c Release -r "$rid" \
    -p:PackAsTool=false -p:PublishAot=true -p:RumorPackRelocations="$pack" -o "$out"
  # The referenced projects' .pdb and .xml files are of no use beside a native binary (rumor.dbg has its symbols).
  rm -f "$out"/*.pdb "$out"/*.xml
fi

# A published binary that cannot print its help is not worth shipping: check it runs (when it can run here).
if [[ "$rid" == "$(dotnet --info | awk '/^ RID:/ {print $2; exit}')" ]]; then
  "$out/rumor" --help > /dev/null
  echo "verified: $out/rumor --help runs"
fi
echo "published $out ($(du -sh "$out" | cut -f1)); the executable: $(du -h "$out/rumor" | cut -f1)"
