using Rumor.Core.Events;
using Rumor.Hosting;

namespace Rumor.Agent;

internal sealed record EventSendRequest(string? Name, string? Payload, string? PayloadBase64, bool? Coalesce);

internal sealed record EventSentDto(string Id, string Name, ulong LamportTime);

internal sealed record EventDto(string Id, string Name, string? Payload, string? PayloadBase64, string Origin, ulong LamportTime, DateTimeOffset ReceivedAt)
{
    public static string IdText(EventId id) => $"{id.Origin}/{id.Generation}/{id.Sequence}";

    public static EventDto From(UserEvent userEvent, DateTimeOffset receivedAt)
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

    public static EventDto From(ReceivedUserEvent received) => From(received.Event, received.ReceivedAt);
}

internal sealed record QueryPostRequest(string? Name, string? Payload, string? PayloadBase64, Dictionary<string, string>? Filter, long? TimeoutMs);

internal sealed record QueryAnswerDto(string From, string? Payload, string? PayloadBase64);

internal sealed record QueryResultDto(string Id, string Name, IReadOnlyList<string> Expected, IReadOnlyList<QueryAnswerDto> Responses, IReadOnlyList<string> Missing, bool Done)
{
    public static QueryResultDto From(string asker, QueryResult result) => new(
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
}

internal sealed record AggregateDto(
    string Key,
    double? Sum,
    double? Count,
    double? ValueCount,
    double? Average,
    double? Min,
    double? Max,
    double ErrorBound,
    bool Converged,
    uint Epoch,
    string Initiator,
    int Rounds,
    AggregateDto? Previous)
{
    public static AggregateDto From(Rumor.Core.AggregateEstimate estimate) => new(
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
        estimate.Previous is { } previous ? From(previous) with { Previous = null } : null);

    // JSON has no NaN or infinity: an estimate that is not a finite number yet is left out.
    private static double? Finite(double? value) => value is { } v && double.IsFinite(v) ? v : null;
}
