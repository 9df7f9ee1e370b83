#!/usr/bin/env python3
"""Mutation check of the wire decoders: weaken one bound at a time and demand a failing test.

Each mutant below replaces one exact piece of a decoder in src/Rumor.Core/Wire (a count limit, a
length check, a trailing-bytes check, a field range check) with a weaker one. For each mutant the
script patches the file, recompiles Rumor.Core (the compiler command line MSBuild would run, with
analyzers off, through the shared compiler server: ~3 s instead of ~20 s), copies the assembly next to
the already-built test assembly, runs the wire tests (tests/Rumor.Core.Tests, namespace
Rumor.Core.Tests.Wire, with `dotnet vstest`) and restores the file. The unmutated sources must pass
first. A mutant is KILLED when a test fails, SURVIVED when all
pass; a mutant whose text is not found (the decoder changed) is reported as STALE and fails the run.

Usage (from the repository root, after `dotnet build tests/Rumor.Core.Tests -c Release`):
    python3 scripts/mutate-decoders.py            # every mutant
    python3 scripts/mutate-decoders.py SD3 H1     # only these ids
Exit code 0 when every mutant was killed (equivalent ones aside). A patched file is restored even on
Ctrl-C; the last step rebuilds Rumor.Core from the restored sources and copies it into the test output
(after a Ctrl-C, rebuild by hand).

Mutants that the wire format makes equivalent (they cannot change any outcome) are marked EQUIV and
still run, to show that they are indeed survivors for that reason only.
"""

import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WIRE = os.path.join(ROOT, "src", "Rumor.Core", "Wire")
CORE_PROJECT = os.path.join(ROOT, "src", "Rumor.Core", "Rumor.Core.csproj")
TEST_PROJECT = os.path.join(ROOT, "tests", "Rumor.Core.Tests")
CORE_DLL = os.path.join(ROOT, "src", "Rumor.Core", "bin", "Release", "net10.0", "Rumor.Core.dll")
TEST_BIN = os.path.join(TEST_PROJECT, "bin", "Release", "net10.0")
TEST_FILTER = "FullyQualifiedName~Rumor.Core.Tests.Wire"

TRAIL = "return reader.Remaining != 0 ? DecodeError.TrailingBytes : DecodeError.None;"
NO_TRAIL = "return DecodeError.None;"

# (id, file under src/Rumor.Core/Wire, occurrence (1-based), original text, weakened text[, "EQUIV"])
MUTANTS = [
    # Shared readers.
    ("R1", "WireReader.cs", 1, "return allowEmpty ? DecodeError.None : DecodeError.Malformed;", "return DecodeError.None;"),
    ("R2", "WireReader.cs", 1, "if (!Utf8.IsValid(utf8))", "if (utf8.Length < 0)"),
    ("R3", "WireReader.cs", 1, "if (length > maxLength)", "if (length > ushort.MaxValue)"),
    ("R4", "WireReader.cs", 1, "_ => -1,", "_ => 4,"),
    # TryReadRaw refuses a negative count; the decoders that cast a u32 length to int also compare it
    # with the bytes left first (PP10, SD6, DL14). Each guard alone is redundant (EQUIV); the pairs
    # below remove both and must be killed.
    ("R5", "WireReader.cs", 1, "if (count < 0 || Remaining < count)", "if (Remaining < count)", "EQUIV"),
    ("R6", "WireReader.cs", 1, "if (Remaining < 1)", "if (Remaining < 0)"),
    ("R7", "WireReader.cs", 1, "if (Remaining < 2)", "if (Remaining < 1)"),
    ("R8", "WireReader.cs", 1, "if (Remaining < 4)", "if (Remaining < 3)"),
    ("R9", "WireReader.cs", 1, "if (Remaining < 8)", "if (Remaining < 7)"),
    ("V1", "Messages/ProtocolVersions.cs", 1, "if (b[0] > b[1] || b[3] > b[4])", "if (b[3] > b[4])"),
    ("V2", "Messages/ProtocolVersions.cs", 1, "if (b[0] > b[1] || b[3] > b[4])", "if (b[0] > b[1])"),
    # Ping (2).
    ("P1", "Messages/PingMessage.cs", 1, "allowEmpty: false, out string source", "allowEmpty: true, out string source"),
    ("P2", "Messages/PingMessage.cs", 1, "return error != DecodeError.None ? error : reader.Remaining != 0 ? DecodeError.TrailingBytes : DecodeError.None;", "return error;"),
    # IndirectPing (3).
    ("I1", "Messages/IndirectPingMessage.cs", 1, "allowEmpty: false", "allowEmpty: true"),
    ("I2", "Messages/IndirectPingMessage.cs", 1, "if ((flags & ~1) != 0)", "if ((flags & ~3) != 0)"),
    ("I3", "Messages/IndirectPingMessage.cs", 1, TRAIL, NO_TRAIL),
    # Ack (4), Nack (5).
    ("A1", "Messages/AckMessage.cs", 1, TRAIL, "return DecodeError.None;"),
    ("N1", "Messages/NackMessage.cs", 1, TRAIL, "return DecodeError.None;"),
    # Alive (6).
    ("AL1", "Messages/AliveMessage.cs", 1, "allowEmpty: false", "allowEmpty: true"),
    ("AL2", "Messages/AliveMessage.cs", 1, "TryReadBytes16(WireLimits.MetaMaxBytes", "TryReadBytes16(WireLimits.MetaMaxBytes + 1"),
    ("AL3", "Messages/AliveMessage.cs", 1, TRAIL, NO_TRAIL),
    # Suspect (7) and Dead (8): AccusationCodec.
    ("S1", "Messages/SuspectMessage.cs", 1, "allowEmpty: false, out name)", "allowEmpty: true, out name)"),
    ("S2", "Messages/SuspectMessage.cs", 1, "allowEmpty: false, out from)", "allowEmpty: true, out from)"),
    ("S3", "Messages/SuspectMessage.cs", 1, "return reader.Remaining != 0 ? DecodeError.TrailingBytes : DecodeError.None;", NO_TRAIL),
    # PushPull (9).
    ("PP1", "Messages/PushPullMessage.cs", 1, "if ((flags & ~1) != 0 || count > WireLimits.PushPullMaxMembers)", "if (count > WireLimits.PushPullMaxMembers)"),
    ("PP2", "Messages/PushPullMessage.cs", 1, "if ((flags & ~1) != 0 || count > WireLimits.PushPullMaxMembers)", "if ((flags & ~1) != 0)"),
    ("PP3", "Messages/PushPullMessage.cs", 1, "if ((flags & ~1) != 0 || count > WireLimits.PushPullMaxMembers)", "if ((flags & ~1) != 0 || count > WireLimits.PushPullMaxMembers + 1)"),
    ("PP4", "Messages/PushPullMessage.cs", 1, "if (count > (uint)(reader.Remaining / PushPullMember.MinEncodedLength))", "if (count > (uint)reader.Remaining)"),
    ("PP5", "Messages/PushPullMessage.cs", 1, "if (count > (uint)(reader.Remaining / PushPullMember.MinEncodedLength))", "if (count > (uint)(reader.Remaining / (PushPullMember.MinEncodedLength - 1)))"),
    ("PP6", "Messages/PushPullMessage.cs", 1, "allowEmpty: false", "allowEmpty: true"),
    ("PP7", "Messages/PushPullMessage.cs", 1, "if (state > (byte)MemberState.Left)", "if (state > (byte)MemberState.Left + 1)"),
    ("PP8", "Messages/PushPullMessage.cs", 1, "TryReadBytes16(WireLimits.MetaMaxBytes", "TryReadBytes16(WireLimits.MetaMaxBytes + 1"),
    ("PP9", "Messages/PushPullMessage.cs", 1, "if (sectionCount > WireLimits.PushPullMaxSections)", "if (sectionCount > WireLimits.PushPullMaxSections + 1)"),
    ("PP10", "Messages/PushPullMessage.cs", 1, "if (length > (uint)reader.Remaining || !reader.TryReadRaw", "if (!reader.TryReadRaw", "EQUIV"),
    ("PP11", "Messages/PushPullMessage.cs", 1, TRAIL, NO_TRAIL),
    # StateDigest (10).
    ("SD1", "Messages/StateDigestMessage.cs", 1, "allowEmpty: false, out string sender", "allowEmpty: true, out string sender"),
    ("SD2", "Messages/StateDigestMessage.cs", 1, "if ((rawFlags & ~0x07) != 0)", "if ((rawFlags & ~0x0F) != 0)"),
    ("SD3", "Messages/StateDigestMessage.cs", 1, "if (hashes is 0 or > 32 || length == 0)", "if (hashes > 32 || length == 0)"),
    ("SD4", "Messages/StateDigestMessage.cs", 1, "if (hashes is 0 or > 32 || length == 0)", "if (hashes is 0 or > 33 || length == 0)"),
    ("SD5", "Messages/StateDigestMessage.cs", 1, "if (hashes is 0 or > 32 || length == 0)", "if (hashes is 0 or > 32)"),
    ("SD6", "Messages/StateDigestMessage.cs", 1, "if (length > (uint)reader.Remaining || !reader.TryReadRaw", "if (!reader.TryReadRaw", "EQUIV"),
    ("SD7", "Messages/StateDigestMessage.cs", 1, TRAIL, NO_TRAIL),
    ("SD8", "Messages/StateDigestMessage.cs", 1, "if (count > (uint)(reader.Remaining / EntryMinBytes))", "if (count > (uint)reader.Remaining)"),
    ("SD9", "Messages/StateDigestMessage.cs", 1, "if (count > (uint)(reader.Remaining / EntryMinBytes))", "if (count > (uint)(reader.Remaining / (EntryMinBytes - 1)))"),
    ("SD10", "Messages/StateDigestMessage.cs", 1, "allowEmpty: false, out string owner", "allowEmpty: true, out string owner"),
    ("SD11", "Messages/StateDigestMessage.cs", 2, TRAIL, NO_TRAIL),
    # StateDelta (11).
    ("DL1", "Messages/StateDeltaMessage.cs", 1, "if ((flags & ~1) != 0)", "if ((flags & ~3) != 0)"),
    ("DL2", "Messages/StateDeltaMessage.cs", 1, "if (ownerCount > reader.Remaining / (2 + 8 + 1 + 8 + 8 + 4))", "if (ownerCount > reader.Remaining)"),
    ("DL3", "Messages/StateDeltaMessage.cs", 1, "if (ownerCount > reader.Remaining / (2 + 8 + 1 + 8 + 8 + 4))", "if (ownerCount > reader.Remaining / (1 + 8 + 1 + 8 + 8 + 4))"),
    ("DL4", "Messages/StateDeltaMessage.cs", 1, "allowEmpty: false, out string owner", "allowEmpty: true, out string owner"),
    ("DL5", "Messages/StateDeltaMessage.cs", 1, "if ((ownerFlags & ~1) != 0 || to < from)", "if (to < from)"),
    ("DL6", "Messages/StateDeltaMessage.cs", 1, "if ((ownerFlags & ~1) != 0 || to < from)", "if ((ownerFlags & ~1) != 0)"),
    ("DL7", "Messages/StateDeltaMessage.cs", 1, "if (count > (uint)(reader.Remaining / EntryMinBytes))", "if (count > (uint)reader.Remaining)"),
    ("DL8", "Messages/StateDeltaMessage.cs", 1, "if (count > (uint)(reader.Remaining / EntryMinBytes))", "if (count > (uint)(reader.Remaining / (EntryMinBytes - 1)))"),
    ("DL9", "Messages/StateDeltaMessage.cs", 1, "if (!Utf8.IsValid(keyBytes))", "if (keyBytes.Length < 0)"),
    ("DL10", "Messages/StateDeltaMessage.cs", 1, "if (kind > 1 || (kind == 1 && valueLength != 0)", "if ((kind == 1 && valueLength != 0)"),
    ("DL11", "Messages/StateDeltaMessage.cs", 1, "if (kind > 1 || (kind == 1 && valueLength != 0) || ", "if (kind > 1 || "),
    ("DL12", "Messages/StateDeltaMessage.cs", 1, "version <= from ||", "version < from ||"),
    ("DL13", "Messages/StateDeltaMessage.cs", 1, " || version > to)", ")"),
    ("DL14", "Messages/StateDeltaMessage.cs", 1, "if (valueLength > (uint)reader.Remaining || !reader.TryReadRaw", "if (!reader.TryReadRaw", "EQUIV"),
    ("DL15", "Messages/StateDeltaMessage.cs", 1, TRAIL, NO_TRAIL),
    # StateChecksum (12), in StateDeltaMessage.cs.
    ("SC1", "Messages/StateDeltaMessage.cs", 1, "allowEmpty: false, out string name", "allowEmpty: true, out string name"),
    ("SC2", "Messages/StateDeltaMessage.cs", 2, TRAIL, NO_TRAIL),
    # Heartbeats (13).
    ("H1", "Messages/HeartbeatsMessage.cs", 1, "if (count > reader.Remaining / 18)", "if (count > reader.Remaining)"),
    ("H2", "Messages/HeartbeatsMessage.cs", 1, "if (count > reader.Remaining / 18)", "if (count > reader.Remaining / 17)"),
    ("H3", "Messages/HeartbeatsMessage.cs", 1, "allowEmpty: false", "allowEmpty: true"),
    ("H4", "Messages/HeartbeatsMessage.cs", 1, TRAIL, NO_TRAIL),
    # UserEvent (14).
    ("U1", "Messages/UserEventMessage.cs", 1, "allowEmpty: false, out string origin", "allowEmpty: true, out string origin"),
    ("U2", "Messages/UserEventMessage.cs", 1, "if (sequence == 0 || coalesceFrom > sequence)", "if (coalesceFrom > sequence)"),
    ("U3", "Messages/UserEventMessage.cs", 1, "if (sequence == 0 || coalesceFrom > sequence)", "if (sequence == 0 || coalesceFrom > sequence + 1)"),
    ("U4", "Messages/UserEventMessage.cs", 1, "allowEmpty: false, out string name", "allowEmpty: true, out string name"),
    ("U5", "Messages/UserEventMessage.cs", 1, TRAIL, NO_TRAIL),
    # EventDigest (15).
    ("E1", "Messages/EventDigestMessage.cs", 1, "if (hashes is 0 or > MaxHashCount || flags > 1)", "if (hashes > MaxHashCount || flags > 1)"),
    ("E2", "Messages/EventDigestMessage.cs", 1, "if (hashes is 0 or > MaxHashCount || flags > 1)", "if (hashes is 0 or > MaxHashCount + 1 || flags > 1)"),
    ("E3", "Messages/EventDigestMessage.cs", 1, "if (hashes is 0 or > MaxHashCount || flags > 1)", "if (hashes is 0 or > MaxHashCount || flags > 3)"),
    ("E4", "Messages/EventDigestMessage.cs", 1, "if (bits.Length == 0)", "if (bits.Length < 0)"),
    ("E5", "Messages/EventDigestMessage.cs", 1, TRAIL, NO_TRAIL),
    # Query (16).
    ("Q1", "Messages/QueryMessage.cs", 1, "allowEmpty: false, out string asker", "allowEmpty: true, out string asker"),
    ("Q2", "Messages/QueryMessage.cs", 1, "if (id == 0 || timeoutMs == 0 || address.Port == 0)", "if (timeoutMs == 0 || address.Port == 0)"),
    ("Q3", "Messages/QueryMessage.cs", 1, "if (id == 0 || timeoutMs == 0 || address.Port == 0)", "if (id == 0 || address.Port == 0)"),
    ("Q4", "Messages/QueryMessage.cs", 1, "if (id == 0 || timeoutMs == 0 || address.Port == 0)", "if (id == 0 || timeoutMs == 0)"),
    ("Q5", "Messages/QueryMessage.cs", 1, "allowEmpty: false, out string name", "allowEmpty: true, out string name"),
    ("Q6", "Messages/QueryMessage.cs", 1, "if (!System.Text.Unicode.Utf8.IsValid(filter))", "if (filter.Length < 0)"),
    ("Q7", "Messages/QueryMessage.cs", 1, TRAIL, NO_TRAIL),
    # QueryResponse (17).
    ("QR1", "Messages/QueryResponseMessage.cs", 1, "if (id == 0)", "if (id < 0)"),
    ("QR2", "Messages/QueryResponseMessage.cs", 1, "allowEmpty: false", "allowEmpty: true"),
    ("QR3", "Messages/QueryResponseMessage.cs", 1, TRAIL, NO_TRAIL),
    # Aggregate (18).
    ("AG1", "Messages/AggregateMessage.cs", 1, "if ((flags & ~(byte)AggregateFlags.Reply) != 0)", "if ((flags & ~3) != 0)"),
    ("AG2", "Messages/AggregateMessage.cs", 1, "if (keyLength == 0 || !Utf8.IsValid(keyUtf8))", "if (!Utf8.IsValid(keyUtf8))"),
    ("AG3", "Messages/AggregateMessage.cs", 1, "if (keyLength == 0 || !Utf8.IsValid(keyUtf8))", "if (keyLength == 0)"),
    ("AG4", "Messages/AggregateMessage.cs", 1, "allowEmpty: false", "allowEmpty: true"),
    ("AG5", "Messages/AggregateMessage.cs", 1, "if (!flow.IsFinite || ", "if ("),
    ("AG6", "Messages/AggregateMessage.cs", 1, "flow.Holders < 0 || ", ""),
    ("AG7", "Messages/AggregateMessage.cs", 1, "flow.Nodes < 0 || ", ""),
    ("AG8", "Messages/AggregateMessage.cs", 1, "flow.Weight < 0 ||", ""),
    ("AG9", "Messages/AggregateMessage.cs", 1, "double.IsNaN(numbers[4]) || ", ""),
    ("AG10", "Messages/AggregateMessage.cs", 1, "double.IsNaN(numbers[5]) ||", ""),
    ("AG11", "Messages/AggregateMessage.cs", 1, "double.IsInfinity(numbers[6]) || ", ""),
    ("AG12", "Messages/AggregateMessage.cs", 1, "double.IsInfinity(numbers[7]) || ", ""),
    ("AG13", "Messages/AggregateMessage.cs", 1, " || double.IsInfinity(numbers[8])", ""),
    ("AG14", "Messages/AggregateMessage.cs", 1, "if (reader.Remaining != 0)", "if (reader.Remaining < 0)"),
    # Coordinate (19).
    ("CO1", "Messages/CoordinateMessage.cs", 1, "if (dimensions is < 1 or > DimensionsMax)", "if (dimensions > DimensionsMax)"),
    ("CO2", "Messages/CoordinateMessage.cs", 1, "if (dimensions is < 1 or > DimensionsMax)", "if (dimensions < 1 || dimensions > DimensionsMax + 1)"),
    ("CO3", "Messages/CoordinateMessage.cs", 1, "if (!AllFinite(vec) || ", "if ("),
    ("CO4", "Messages/CoordinateMessage.cs", 1, "!double.IsFinite(error) || ", ""),
    ("CO5", "Messages/CoordinateMessage.cs", 1, "!double.IsFinite(adjustment) || ", ""),
    ("CO6", "Messages/CoordinateMessage.cs", 1, "!double.IsFinite(height) || ", ""),
    ("CO7", "Messages/CoordinateMessage.cs", 1, " || error < 0", ""),
    ("CO8", "Messages/CoordinateMessage.cs", 1, " || height < 0", ""),
    ("CO9", "Messages/CoordinateMessage.cs", 1, "if (reader.Remaining != 0)", "if (reader.Remaining < 0)"),
    # PacketReader: the checks before any decoder runs.
    ("PR1", "PacketReader.cs", 1, "if (packet.Length > budgetBytes)", "if (packet.Length > budgetBytes + 1)"),
    ("PR2", "PacketReader.cs", 1, "if (packet.Length < WireLimits.OverheadBytes)", "if (packet.Length < WireLimits.OverheadBytes - 1)"),
    ("PR3", "PacketReader.cs", 1, "if (packet[0] != WireLimits.FormatVersion)", "if (packet[0] > 2)"),
    ("PR4", "PacketReader.cs", 1, "if (Crc32C.Compute(packet[..end]) != expected)", "if (Crc32C.Compute(packet[1..end]) != expected)"),
    ("PR5", "PacketReader.cs", 1, "flags != PacketFlags.Compressed || decompressionBuffer is null", "flags != PacketFlags.Compressed"),
    ("PR6", "PacketReader.cs", 1, "type is >= MessageType.Ping and <= MessageType.Coordinate", "type is >= MessageType.Ping and <= (MessageType)20"),
    ("PR7", "PacketReader.cs", 1, "if (count == 0)", "if (count < 0)"),
    ("PR8", "PacketReader.cs", 1, "if (length < 1)", "if (length < 0)"),
    ("PR9", "PacketReader.cs", 1, "if ((MessageType)body[position] == MessageType.Compound)", "if (length < 0)"),
    ("PR10", "PacketReader.cs", 1, "if (position != body.Length)", "if (position > body.Length)"),
    ("PR11", "PacketReader.cs", 1, "if (body.Length < 1)", "if (body.Length < 0)"),
    ("PR12", "PacketReader.cs", 1, "if (body.Length - position < 2)", "if (body.Length - position < 1)"),
    ("PR13", "PacketReader.cs", 1, "if (body.Length - position < length)", "if (body.Length - position < length - 1)"),
]


# Mutants made of several of the above at once: (id, [ids]).
COMBINED = [
    ("PP10+R5", ["PP10", "R5"]),
    ("SD6+R5", ["SD6", "R5"]),
    ("DL14+R5", ["DL14", "R5"]),
]


def run(args, timeout):
    try:
        return subprocess.run(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def compiler_command():
    """The Csc command line MSBuild uses for Rumor.Core (analyzers off), to rerun it through the compiler server."""
    args = ["dotnet", "build", CORE_PROJECT, "-c", "Release", "--no-restore", "-v", "d", "-nologo", "--no-incremental",
            "-p:RunAnalyzers=false", "-p:EnforceCodeStyleInBuild=false", "-p:TreatWarningsAsErrors=false", "-p:GenerateDocumentationFile=false"]
    result = run(args, 900)
    if result is None or result.returncode != 0:
        sys.exit("could not build Rumor.Core to learn its compiler command line")
    for line in result.stdout.splitlines():
        line = line.strip()
        if "/noconfig" in line and "/out:" in line:
            compiler, arguments = line.split(" ", 1)
            rsp = os.path.join(ROOT, "src", "Rumor.Core", "obj", "mutate-decoders.rsp")
            with open(rsp, "w", encoding="utf-8") as f:
                f.write(arguments.replace("/noconfig ", ""))
            output = [a for a in arguments.split(" ") if a.startswith("/out:")][0][len("/out:"):]
            return [compiler, "/noconfig", "/shared", "@" + rsp], os.path.join(ROOT, "src", "Rumor.Core", output)
    sys.exit("no Csc command line in the build log")


def build_core(compiler):
    """Quick: the compiler alone, through the shared compiler server. Final: a full dotnet build."""
    if compiler is None:
        result = run(["dotnet", "build", CORE_PROJECT, "-c", "Release", "--no-restore", "-v", "q", "-nologo"], 900)
        output = CORE_DLL
    else:
        command, output = compiler
        result = subprocess.run(command, cwd=os.path.join(ROOT, "src", "Rumor.Core"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result is None or result.returncode != 0:
        return False
    shutil.copy2(output, TEST_BIN)
    return True


def run_tests():
    dll = os.path.join(TEST_BIN, "Rumor.Core.Tests.dll")
    return run(["dotnet", "vstest", dll, "--TestCaseFilter:" + TEST_FILTER], 900)


def patch(text, occurrence, original, weakened):
    start = -1
    for _ in range(occurrence):
        start = text.find(original, start + 1)
        if start < 0:
            return None
    return text[:start] + weakened + text[start + len(original):]


def main():
    wanted = set(sys.argv[1:])
    by_id = {m[0]: m for m in MUTANTS}
    mutants = [(m[0], [m]) for m in MUTANTS if not wanted or m[0] in wanted]
    mutants += [(ident, [by_id[part] for part in parts]) for ident, parts in COMBINED if not wanted or ident in wanted]
    compiler = compiler_command()
    if not build_core(compiler):
        sys.exit("the unmutated sources do not compile")
    baseline = run_tests()
    if baseline is None or baseline.returncode != 0:
        print(baseline.stdout[-3000:] if baseline else "timeout")
        sys.exit("the wire tests fail without any mutant: fix them first")
    results = []
    for ident, parts in mutants:
        equivalent = all(len(part) > 5 for part in parts)
        relative = ", ".join(sorted({part[1] for part in parts}))
        original = " + ".join(part[3] for part in parts)
        weakened = " + ".join(part[4] for part in parts)
        saved = {}
        patched = {}
        for part in parts:
            path = os.path.join(WIRE, part[1])
            if path not in saved:
                with open(path, encoding="utf-8") as f:
                    saved[path] = f.read()
            text = patch(patched.get(path, saved[path]), part[2], part[3], part[4])
            if text is None:
                break
            patched[path] = text
        else:
            text = ""
        if text is None:
            results.append((ident, "STALE", relative, original))
            print(f"{ident:5} STALE     {relative}: text not found", flush=True)
            continue
        started = time.time()
        try:
            for path, text in patched.items():
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
            if not build_core(compiler):
                verdict, detail = "NOBUILD", ""
            else:
                test = run_tests()
                if test is None:
                    verdict, detail = "KILLED", "timeout"
                elif test.returncode != 0:
                    failed = [line.strip() for line in test.stdout.splitlines() if "[FAIL]" in line]
                    verdict, detail = "KILLED", f"{len(failed)} failed, e.g. {failed[0].split('] ', 1)[-1] if failed else test.stdout[-300:]}"
                else:
                    verdict, detail = "SURVIVED", "EQUIV (no outcome can change)" if equivalent else ""
        finally:
            for path, text in saved.items():
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
        results.append((ident, verdict, relative, detail))
        print(f"{ident:5} {verdict:9} {relative}: `{original}` -> `{weakened}` ({time.time() - started:.0f} s) {detail}", flush=True)

    print("restoring: rebuilding Rumor.Core from the restored sources", flush=True)
    if not build_core(None):
        print("WARNING: the final rebuild failed; run `dotnet build tests/Rumor.Core.Tests -c Release`", flush=True)
    killed = sum(1 for r in results if r[1] == "KILLED")
    survived = [r for r in results if r[1] == "SURVIVED"]
    other = [r for r in results if r[1] not in ("KILLED", "SURVIVED")]
    print(f"{len(results)} mutants: {killed} killed, {len(survived)} survived, {len(other)} stale or not building", flush=True)
    for r in survived + other:
        print(f"  {r[0]} {r[1]} {r[2]} {r[3]}", flush=True)
    real_survivors = [r for r in survived if not r[3].startswith("EQUIV")]
    return 0 if not real_survivors and not other else 1


if __name__ == "__main__":
    sys.exit(main())
