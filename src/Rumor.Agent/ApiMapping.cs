using System.Globalization;
using Rumor.Client;
using Rumor.Core;
using Rumor.Core.Events;
using Rumor.Core.FailureDetection;
using Rumor.Hosting;

namespace Rumor.Agent;

/// <summary>
/// From the node's types to the API's models (Rumor.Client, shared with the client). The models
/// know nothing of the core; this is the one place that does both. Enums map by name, and a test
/// fails when the core gains a value the API does not know.
/// </summary>
internal static class ApiMapping
{
    public static TTo MapEnum<TFrom, TTo>(TFrom value)
        where TFrom : struct, Enum
        where TTo : struct, Enum =>
        Enum.Parse<TTo>(value.ToString());

    public static Client.MemberState ToApi(this Core.Membership.MemberState state) => MapEnum<Core.Membership.MemberState, Client.MemberState>(state);

    public static MemberDto ToApi(this RumorMember member) => new(
        member.Name,
        member.Address.ToString(),
        member.State.ToApi(),
        member.Generation,
        member.Incarnation,
        member.Tags,
        (long)member.StateChangedAgo.TotalMilliseconds,
        member.IsLocal);

    public static VerdictDto ToApi(this VerdictRecord v, DateTimeOffset epoch) => new(
        epoch + v.At,
        MapEnum<Core.FailureDetection.VerdictKind, Client.VerdictKind>(v.Kind),
        MapEnum<Core.FailureDetection.VerdictSource, Client.VerdictSource>(v.Source),
        v.Generation,
        v.Incarnation,
        v.Accuser,
        v.Accusers,
        v.Confirmations,
        v.SuspectedAt is { } s ? epoch + s : null,
        v.SuspicionDeadline is { } d ? epoch + d : null,
        v.LocalHealthScore,
        v.StallGuardActive,
        [.. v.ProbeHistory.Select(p => p.ToApi(epoch))]);

    public static ProbeDto ToApi(this ProbeRecord p, DateTimeOffset epoch) =>
        new(epoch + p.At, MapEnum<Core.FailureDetection.ProbeOutcome, Client.ProbeOutcome>(p.Outcome), p.RoundTrip?.TotalMilliseconds, p.IndirectSent, p.Nacks);

    public static KvEntryDto ToApi(this KeyValueEntry entry)
    {
        string? text = ApiJson.TryText(entry.Value);
        return new KvEntryDto(entry.Owner, entry.Key, text, text is null ? Convert.ToBase64String(entry.Value) : null, entry.Version, entry.TimeToLive is { } ttl ? (long)ttl.TotalMilliseconds : null);
    }

    public static KvChangeDto ToApi(this KeyChanged change)
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

    public static MemberEventDto ToApi(this MemberChanged changed, DateTimeOffset epoch)
    {
        Core.MemberSnapshot m = changed.Member;
        return new MemberEventDto(m.Name, m.Address.ToString(), m.State.ToApi(), changed.Previous?.ToApi(), MapEnum<Core.MemberChangeKind, Client.MemberChangeKind>(changed.Kind), m.Incarnation, epoch + changed.At);
    }

    public static ConvergenceDto ToApi(this StateConvergence c, TimeSpan now) => new(
        c.Converged,
        c.Converged && c.Since is { } since ? (long)(now - since).TotalMilliseconds : null,
        c.Checksum.ToString("x16", CultureInfo.InvariantCulture),
        c.Differing,
        c.Unknown);

    public static string IdText(EventId id) => $"{id.Origin}/{id.Generation}/{id.Sequence}";

    public static EventDto ToApi(this UserEvent userEvent, DateTimeOffset receivedAt)
    {
        string? text = ApiJson.TryText(userEvent.Payload);
        return new EventDto(
            IdText(userEvent.Id),
            userEvent.Name,
            text,
            text is null ? Convert.ToBase64String(userEvent.Payload) : null,
            userEvent.Id.Origin,
            userEvent.LamportTime,
            receivedAt);
    }

    public static EventDto ToApi(this ReceivedUserEvent received) => received.Event.ToApi(received.ReceivedAt);

    public static QueryResultDto ToApi(this QueryResult result, string asker) => new(
        $"{asker}/{result.Id}",
        result.Name,
        result.Expected,
        [.. result.Responses.Select(answer =>
        {
            string? text = ApiJson.TryText(answer.Payload);
            return new QueryAnswerDto(answer.From, text, text is null ? Convert.ToBase64String(answer.Payload) : null);
        })],
        result.Missing,
        result.Done);

    public static AggregateDto ToApi(this AggregateReading reading) => reading.Estimate.ToApi() with
    {
        RemainingMs = reading.RemainingLifetime is { } left ? (long)Math.Ceiling(left.TotalMilliseconds) : null,
    };

    /// <summary>The wire names of the aggregate functions.</summary>
    public static string FunctionName(AggregateFunction function) => function switch
    {
        AggregateFunction.Sum => "sum",
        AggregateFunction.Count => "count",
        AggregateFunction.Min => "min",
        AggregateFunction.Max => "max",
        _ => "average",
    };

    /// <summary>Reads an aggregate function's name (case-insensitive); false for anything else.</summary>
    public static bool TryParseFunction(string text, out AggregateFunction function)
    {
        foreach (AggregateFunction candidate in Enum.GetValues<AggregateFunction>())
        {
            if (string.Equals(FunctionName(candidate), text, StringComparison.OrdinalIgnoreCase))
            {
                function = candidate;
                return true;
            }
        }

        function = AggregateFunction.Average;
        return false;
    }

    /// <summary>Says what is wrong with the inputs, when something is: this member's own, and the members without a number.</summary>
    private static string? InputNote(AggregateEstimate estimate)
    {
        List<string> notes = [];
        if (estimate.Input == AggregateInputState.Missing)
        {
            notes.Add($"this member has no value of '{estimate.Key}'");
        }
        else if (estimate.Input == AggregateInputState.NotANumber)
        {
            notes.Add($"this member's value of '{estimate.Key}' is not a number (invariant-culture text such as 0.75)");
        }

        if (estimate.Count is { } count && double.IsFinite(count) && estimate.ValueCount is { } values && double.IsFinite(values))
        {
            long members = (long)Math.Round(count);
            long without = members - (long)Math.Round(values);
            if (without > 0 && without >= members)
            {
                notes.Add($"no member has a numeric value of '{estimate.Key}': sum, average, min and max are unknown; set it with 'rumor kv set {estimate.Key} NUMBER' on each member");
            }
            else if (without > 0)
            {
                notes.Add($"about {without} of {members} members have no numeric value of '{estimate.Key}' and count as members only");
            }
        }

        return notes.Count == 0 ? null : string.Join("; ", notes) + ".";
    }

    public static AggregateDto ToApi(this AggregateEstimate estimate) => new(
        estimate.Key,
        Finite(estimate.Sum),
        Finite(estimate.Count),
        Finite(estimate.ValueCount),
        Finite(estimate.Average),
        Finite(estimate.Min),
        Finite(estimate.Max),
        double.IsFinite(estimate.ErrorBound) ? estimate.ErrorBound : double.MaxValue,
        estimate.Converged,
        estimate.Epoch,
        estimate.Initiator,
        estimate.Rounds,
        estimate.Previous is { } previous ? previous.ToApi() with { Previous = null } : null,
        FunctionName(estimate.Function),
        Finite(estimate.Value),
        null,
        estimate.Input switch
        {
            AggregateInputState.Number => "number",
            AggregateInputState.NotANumber => "notANumber",
            _ => "missing",
        },
        InputNote(estimate));

    // JSON has no NaN or infinity: an estimate that is not a finite number yet is left out.
    private static double? Finite(double? value) => value is { } v && double.IsFinite(v) ? v : null;
}
