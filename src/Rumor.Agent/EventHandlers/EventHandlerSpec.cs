namespace Rumor.Agent.EventHandlers;

/// <summary>
/// One <c>--event-handler [FILTER=]SCRIPT</c>, as Serf has it: a comma-separated list of event
/// filters and the script to run (by <c>/bin/sh -c</c>). No filter (or <c>*</c>) means every event.
/// Filters: <c>member-join</c>, <c>member-leave</c>, <c>member-failed</c>, <c>member-update</c>,
/// <c>member-reap</c>, <c>user</c> (every user event), <c>user:NAME</c>, <c>query</c> (every
/// query), <c>query:NAME</c>.
/// </summary>
public sealed record EventHandlerSpec(IReadOnlyList<string> Filters, string Script)
{
    /// <summary>The member event names, as the RUMOR_EVENT variable carries them.</summary>
    public static readonly IReadOnlyList<string> MemberEvents = ["member-join", "member-leave", "member-failed", "member-update", "member-reap"];

    /// <summary>The text as given (for logs and reload reports).</summary>
    public string Text => Filters.Count == 0 ? Script : string.Join(',', Filters) + "=" + Script;

    /// <summary>
    /// Parses <c>[FILTER=]SCRIPT</c>. The part before the first '=' is a filter list only when every
    /// entry of it is a known filter, so a script such as <c>FOO=1 ./x.sh</c> is still a script.
    /// Throws <see cref="FormatException"/> with a sentence naming the mistake.
    /// </summary>
    public static EventHandlerSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string trimmed = text.Trim();
        if (trimmed.Length == 0)
        {
            throw new FormatException("an event handler is empty: expected [FILTER=]SCRIPT, e.g. member-join,member-leave=./members.sh.");
        }

        int equals = trimmed.IndexOf('=', StringComparison.Ordinal);
        if (equals > 0)
        {
            string[] filters = trimmed[..equals].Split(',', StringSplitOptions.TrimEntries);
            string script = trimmed[(equals + 1)..].Trim();
            bool looksLikeFilters = filters.All(f => f.Length > 0 && !f.Contains(' ', StringComparison.Ordinal) && (f.Contains('-', StringComparison.Ordinal) || f.Contains(':', StringComparison.Ordinal) || f is "user" or "query" or "*"));
            if (looksLikeFilters)
            {
                foreach (string filter in filters)
                {
                    if (Problem(filter) is { } problem)
                    {
                        throw new FormatException($"event handler '{text}': {problem}");
                    }
                }

                if (script.Length == 0)
                {
                    throw new FormatException($"event handler '{text}' names no script after '='.");
                }

                return new EventHandlerSpec(filters.Contains("*") ? [] : filters, script);
            }
        }

        return new EventHandlerSpec([], trimmed);
    }

    /// <summary>True when this handler runs for <paramref name="eventName"/> (RUMOR_EVENT) with the user event's or query's <paramref name="name"/>.</summary>
    public bool Matches(string eventName, string? name)
    {
        if (Filters.Count == 0)
        {
            return true;
        }

        foreach (string filter in Filters)
        {
            int colon = filter.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0 ? filter == eventName : filter[..colon] == eventName && filter[(colon + 1)..] == name)
            {
                return true;
            }
        }

        return false;
    }

    private static string? Problem(string filter)
    {
        if (filter == "*" || MemberEvents.Contains(filter) || filter is "user" or "query")
        {
            return null;
        }

        int colon = filter.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && filter[..colon] is "user" or "query")
        {
            return colon == filter.Length - 1 ? $"filter '{filter}' names no {filter[..colon]} (expected {filter}NAME)." : null;
        }

        return $"unknown filter '{filter}': expected {string.Join(", ", MemberEvents)}, user, user:NAME, query, query:NAME or *.";
    }
}
