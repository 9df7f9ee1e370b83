using System.Globalization;
using Rumor.Core;
using Rumor.Core.FailureDetection;
using Rumor.Core.Membership;
using Rumor.Hosting;

namespace Rumor.Agent;

// The JSON shapes of docs/HTTP-API.md. Durations are milliseconds (…Ms), times ISO 8601 UTC.
internal sealed record MemberDto(string Name, string Address, MemberState State, ulong Generation, uint Incarnation, IReadOnlyDictionary<string, string> Tags, long StateChangedMs, bool IsLocal)
{
    public static MemberDto From(RumorMember member) => new(
        member.Name,
        member.Address.ToString(),
        member.State,
        member.Generation,
        member.Incarnation,
        member.Tags,
        (long)member.StateChangedAgo.TotalMilliseconds,
        member.IsLocal);
}

internal sealed record MemberDetailDto(string Name, string Address, MemberState State, ulong Generation, uint Incarnation, IReadOnlyDictionary<string, string> Tags, long StateChangedMs, bool IsLocal, IReadOnlyList<VerdictDto> Verdicts, IReadOnlyList<ProbeDto> Probes);

internal sealed record VerdictDto(
    DateTimeOffset At,
    VerdictKind Kind,
    VerdictSource Source,
    ulong Generation,
    uint Incarnation,
    string Accuser,
    IReadOnlyList<string> Accusers,
    int Confirmations,
    DateTimeOffset? SuspectedAt,
    DateTimeOffset? SuspicionDeadline,
    int LocalHealthScore,
    bool StallGuardActive,
    IReadOnlyList<ProbeDto> Probes)
{
    public static VerdictDto From(VerdictRecord v, DateTimeOffset epoch) => new(
        epoch + v.At,
        v.Kind,
        v.Source,
        v.Generation,
        v.Incarnation,
        v.Accuser,
        v.Accusers,
        v.Confirmations,
        v.SuspectedAt is { } s ? epoch + s : null,
        v.SuspicionDeadline is { } d ? epoch + d : null,
        v.LocalHealthScore,
        v.StallGuardActive,
        [.. v.ProbeHistory.Select(p => ProbeDto.From(p, epoch))]);
}

internal sealed record ProbeDto(DateTimeOffset At, ProbeOutcome Outcome, double? RoundTripMs, int IndirectSent, int Nacks)
{
    public static ProbeDto From(ProbeRecord p, DateTimeOffset epoch) =>
        new(epoch + p.At, p.Outcome, p.RoundTrip?.TotalMilliseconds, p.IndirectSent, p.Nacks);
}

internal sealed record JoinRequest(List<string>? Seeds);

internal sealed record JoinedDto(string Seed, int Members);

internal sealed record JoinFailedDto(string Seed, string Reason);

internal sealed record JoinResponse(IReadOnlyList<JoinedDto> Joined, IReadOnlyList<JoinFailedDto> Failed);

internal sealed record LeaveRequest(long? TimeoutMs);

internal sealed record LeaveResponse(bool Left);

internal sealed record KvEntryDto(string Owner, string Key, string? Value, string? ValueBase64, ulong Version, long? TtlMs)
{
    public static KvEntryDto From(KeyValueEntry entry)
    {
        string? text = ApiJson.TryText(entry.Value);
        return new KvEntryDto(entry.Owner, entry.Key, text, text is null ? Convert.ToBase64String(entry.Value) : null, entry.Version, entry.TimeToLive is { } ttl ? (long)ttl.TotalMilliseconds : null);
    }
}

internal sealed record KvPutRequest(string? Value, string? ValueBase64, long? TtlMs);

internal sealed record KvWriteResponse(string Owner, string Key, ulong Version);

internal sealed record KvChangeDto(string Owner, string Key, string? OldValue, string? NewValue, string? OldValueBase64, string? NewValueBase64, ulong Version, bool Deleted)
{
    public static KvChangeDto From(KeyChanged change)
    {
        string? oldText = ApiJson.TryText(change.OldValue);
        string? newText = ApiJson.TryText(change.NewValue);
        return new KvChangeDto(
            change.Owner,
            change.Key,
            oldText,
            newText,
            change.OldValue is not null && oldText is null ? Convert.ToBase64String(change.OldValue) : null,
            change.NewValue is not null && newText is null ? Convert.ToBase64String(change.NewValue) : null,
            change.Version,
            change.NewValue is null);
    }
}

internal sealed record MemberEventDto(string Name, string Address, MemberState State, MemberState? Previous, MemberChangeKind Kind, uint Incarnation, DateTimeOffset At);

internal sealed record MemberCountsDto(int Alive, int Suspect, int Dead, int Left);

internal sealed record HealthDto(int Score, int Max);

internal sealed record ConvergenceDto(bool Converged, long? SinceMs, string Checksum, IReadOnlyList<string> Differing, IReadOnlyList<string> Unknown)
{
    public static ConvergenceDto From(StateConvergence c, TimeSpan now) => new(
        c.Converged,
        c.Converged && c.Since is { } since ? (long)(now - since).TotalMilliseconds : null,
        c.Checksum.ToString("x16", CultureInfo.InvariantCulture),
        c.Differing,
        c.Unknown);
}

internal sealed record CountersDto(
    long PacketsSent,
    long PacketsReceived,
    long BytesSent,
    long BytesReceived,
    long StreamsOpened,
    long StreamsAccepted,
    long StreamFailures,
    long DecodeFailures,
    long ProbesSent,
    long ProbesFailed,
    long Suspicions,
    long Refutations,
    long BroadcastsQueued,
    long BroadcastsDropped,
    long StateDeltasSent,
    long StateEntriesApplied,
    long EventsDropped);

internal sealed record StatusDto(
    string Name,
    string Address,
    string Version,
    ulong Generation,
    uint Incarnation,
    string Preset,
    long UptimeMs,
    MemberCountsDto Members,
    HealthDto LocalHealth,
    ConvergenceDto Convergence,
    CountersDto Counters,
    int PendingBroadcasts,
    int Keys,
    IReadOnlyList<double> ProbeRttMs);
