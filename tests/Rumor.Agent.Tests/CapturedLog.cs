using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Rumor.Agent.Tests;

/// <summary>A logger provider that keeps every line (category, event id, message) for a test to read.</summary>
internal sealed class CapturedLog : ILoggerProvider
{
    private readonly ConcurrentQueue<(string Category, int EventId, LogLevel Level, string Message)> _lines = new();

    public IReadOnlyList<(string Category, int EventId, LogLevel Level, string Message)> Lines => [.. _lines];

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<(string, int, LogLevel, string)> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue((category, eventId.Id, logLevel, formatter(state, exception)));
    }
}
