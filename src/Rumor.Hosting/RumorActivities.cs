using System.Diagnostics;

namespace Rumor.Hosting;

/// <summary>
/// The <see cref="ActivitySource"/> named <see cref="SourceName"/>: one span per join
/// (<c>rumor.join</c>), per query (<c>rumor.query</c>) and per graceful leave (<c>rumor.leave</c>),
/// the operations an operator waits on and wants to see the duration and outcome of. Probes and
/// gossip rounds are not traced: they run many times a second and the metrics cover them. Static,
/// as ActivitySources are: with several nodes in one process, the <c>rumor.node</c> tag tells them apart.
/// </summary>
public static class RumorActivities
{
    /// <summary>The source's name, for <c>AddSource</c> in a tracer provider.</summary>
    public const string SourceName = "Rumor";

    /// <summary>The source.</summary>
    public static readonly ActivitySource Source = new(SourceName, typeof(RumorActivities).Assembly.GetName().Version?.ToString());

    internal static Activity? StartJoin(string node, int seeds)
    {
        Activity? activity = Source.StartActivity("rumor.join", ActivityKind.Internal);
        activity?.SetTag("rumor.node", node);
        activity?.SetTag("rumor.join.seeds", seeds);
        return activity;
    }

    internal static void Joined(Activity? activity, Transport.JoinResult result)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag("rumor.join.succeeded", result.Succeeded.Count);
        activity.SetTag("rumor.join.failed", result.Failed.Count);
        activity.SetStatus(result.Joined ? ActivityStatusCode.Ok : ActivityStatusCode.Error, result.Joined ? null : "no seed answered");
    }

    internal static Activity? StartQuery(string node, string name, TimeSpan timeout)
    {
        Activity? activity = Source.StartActivity("rumor.query", ActivityKind.Internal);
        activity?.SetTag("rumor.node", node);
        activity?.SetTag("rumor.query.name", name);
        activity?.SetTag("rumor.query.timeout_ms", timeout.TotalMilliseconds);
        return activity;
    }

    internal static void Answered(Activity? activity, Core.Events.QueryResult result)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag("rumor.query.id", (long)result.Id);
        activity.SetTag("rumor.query.expected", result.Expected.Count);
        activity.SetTag("rumor.query.responses", result.Responses.Count);
        activity.SetTag("rumor.query.missing", result.Missing.Count);
        activity.SetStatus(ActivityStatusCode.Ok);
    }

    internal static Activity? StartLeave(string node, TimeSpan timeout)
    {
        Activity? activity = Source.StartActivity("rumor.leave", ActivityKind.Internal);
        activity?.SetTag("rumor.node", node);
        activity?.SetTag("rumor.leave.timeout_ms", timeout.TotalMilliseconds);
        return activity;
    }

    internal static void Left(Activity? activity, bool confirmed)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag("rumor.leave.confirmed", confirmed);
        activity.SetStatus(confirmed ? ActivityStatusCode.Ok : ActivityStatusCode.Error, confirmed ? null : "the leave did not spread within the timeout");
    }

    internal static void Failed(Activity? activity, Exception exception)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetStatus(ActivityStatusCode.Error, exception.Message);
        activity.AddException(exception);
    }
}
