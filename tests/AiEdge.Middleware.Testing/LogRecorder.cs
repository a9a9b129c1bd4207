using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.Testing;

/// <summary>A logger provider that keeps every entry at or above Debug, for assertions on what a host logged.</summary>
public sealed class LogRecorder : ILoggerProvider
{
    /// <summary>Gets the entries, in order.</summary>
    public ConcurrentQueue<LogEntry> Entries { get; } = new();

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    /// <inheritdoc />
    public void Dispose()
    {
    }

    /// <summary>Gets the entries at <paramref name="level"/> or above.</summary>
    public List<LogEntry> AtLeast(LogLevel level)
    {
        var list = new List<LogEntry>();
        foreach (var entry in Entries)
        {
            if (entry.Level >= level)
            {
                list.Add(entry);
            }
        }

        return list;
    }

    private sealed class Logger(LogRecorder owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => owner.Entries.Enqueue(new LogEntry(category, logLevel, eventId, formatter(state, exception), exception));
    }
}

/// <summary>One recorded log entry.</summary>
/// <param name="Category">The logger's category.</param>
/// <param name="Level">The level.</param>
/// <param name="EventId">The event id.</param>
/// <param name="Message">The formatted message.</param>
/// <param name="Exception">The exception logged with it, if any.</param>
public sealed record LogEntry(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception);
