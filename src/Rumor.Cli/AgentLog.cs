using Microsoft.Extensions.Logging;

namespace Rumor.Cli;

/// <summary>
/// What the agent's host logs through <see cref="ILogger"/>, printed on <c>rumor agent</c>'s output
/// like the rest of its log: the API's own lines (<c>Rumor.Agent.Api</c>: limits reached, refusals,
/// stream drops), the idle memory trim (<c>Rumor.Agent.Memory</c>), and warnings and errors of the
/// framework (an unhandled exception behind a 500, which was logged nowhere before). The node's
/// member and join lines (<c>Rumor.Hosting</c>) and the event handlers' are left out: the command
/// prints those itself, from the node's events and <c>EventHandlers.Logged</c>. Hand-written: the
/// console provider of Microsoft.Extensions.Logging writes on its own thread in its own format,
/// and this log interleaves with the command's lines, follows <c>--log-level</c> and its SIGHUP reload.
/// </summary>
internal sealed class AgentLogProvider(TextWriter log, LogFilter filter) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) =>
        categoryName.StartsWith("Rumor.Hosting", StringComparison.Ordinal) || categoryName.StartsWith("Rumor.Agent.EventHandlers", StringComparison.Ordinal)
            ? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance
            : new AgentLogger(log, filter, categoryName, categoryName.StartsWith("Rumor.", StringComparison.Ordinal) ? LogLevel.Trace : LogLevel.Warning);

    public void Dispose()
    {
    }

    private sealed class AgentLogger(TextWriter log, LogFilter filter, string category, LogLevel floor) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= floor && logLevel >= filter.Level;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            string level = logLevel switch
            {
                LogLevel.Warning => "warning",
                LogLevel.Error => "error",
                LogLevel.Critical => "critical",
                LogLevel.Information => "info",
                _ => "debug",
            };
            string message = $"{level}: {category}: {formatter(state, exception)}";
            AgentCommand.Log(log, exception is null ? message : message + Environment.NewLine + exception);
        }
    }
}
