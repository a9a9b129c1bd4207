using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.Testing;

/// <summary>A logger provider that keeps every event (category, level, event id, message, exception) for assertions.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    /// <summary>Gets every event logged so far.</summary>
    public IReadOnlyList<LogEntry> Entries => [.. _entries];

    /// <summary>Gets the events at <paramref name="level"/> or above.</summary>
    /// <param name="level">The lowest level kept.</param>
    /// <returns>The events, in the order they were logged.</returns>
    public List<LogEntry> AtLeast(LogLevel level)
    {
        var list = new List<LogEntry>();
        foreach (var entry in _entries)
        {
            if (entry.Level >= level)
            {
                list.Add(entry);
            }
        }

        return list;
    }

    /// <summary>Gets the events at <see cref="LogLevel.Error"/> or above, formatted for an assertion message.</summary>
    public IReadOnlyList<string> Errors()
    {
        var errors = new List<string>();
        foreach (var entry in AtLeast(LogLevel.Error))
        {
            errors.Add(entry.Category + "[" + entry.EventId.Id + "] " + entry.Message + " " + entry.Exception);
        }

        return errors;
    }

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<LogEntry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => entries.Enqueue(new LogEntry(category, logLevel, eventId, formatter(state, exception), exception));
    }
}

/// <summary>One event kept by <see cref="LogCapture"/>.</summary>
/// <param name="Category">The logger category.</param>
/// <param name="Level">The level.</param>
/// <param name="EventId">The event id.</param>
/// <param name="Message">The formatted message.</param>
/// <param name="Exception">The exception logged with it, if any.</param>
public sealed record LogEntry(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception);
