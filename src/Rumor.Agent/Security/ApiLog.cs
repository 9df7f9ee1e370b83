using Microsoft.Extensions.Logging;

namespace Rumor.Agent.Security;

/// <summary>
/// The HTTP side's log lines, with stable event ids (2000-2099; the node's are 1000-1099 in
/// Rumor.Hosting.RumorLog): every limit the API hits and every request it refuses is logged once.
/// </summary>
internal static partial class ApiLog
{
    /// <summary>The category the lines are logged under.</summary>
    public const string Category = "Rumor.Agent.Api";

    [LoggerMessage(EventId = 2000, Level = LogLevel.Warning, Message = "{Method} {Path} hit the limit {Option}: {Detail}")]
    public static partial void LimitReached(ILogger logger, string method, string path, string option, string detail);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "{Method} {Path} from {Client} refused: {Status} {Detail}")]
    public static partial void Refused(ILogger logger, string method, string path, string client, int status, string detail);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "{Method} {Path} from {Client} rate limited (HttpRateLimit {Rate}/s, burst {Burst})")]
    public static partial void RateLimited(ILogger logger, string method, string path, string client, int rate, int burst);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Stream subscriber {Client} dropped {Dropped} event(s) it did not read in time ({Option})")]
    public static partial void StreamDropped(ILogger logger, string client, long dropped, string option);
}
