using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.Testing;

/// <summary>A logger provider that keeps every event (category, level, event id, message, exception) for assertions.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    /// <summary>Gets every event logged so far.</summary>
    public IReadOnlyList<LogEntry> Entries => [.. _entries];

    /// <summary>Gets the events of <paramref name="eventId"/>, in the order they were logged.</summary>
    /// <param name="eventId">The event id.</param>
    /// <returns>The events.</returns>
    public List<LogEntry> WithId(int eventId)
    {
        var list = new List<LogEntry>();
        foreach (var entry in _entries)
        {
            if (entry.EventId.Id == eventId)
            {
                list.Add(entry);
            }
        }

        return list;
    }

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
            => entries.Enqueue(new LogEntry(category, logLevel, eventId, formatter(state, exception), exception, state as IReadOnlyList<KeyValuePair<string, object?>>));
    }
}

/// <summary>One event kept by <see cref="LogCapture"/>.</summary>
/// <param name="Category">The logger category.</param>
/// <param name="Level">The level.</param>
/// <param name="EventId">The event id.</param>
/// <param name="Message">The formatted message.</param>
/// <param name="Exception">The exception logged with it, if any.</param>
/// <param name="Values">The event's structured values (a <c>[LoggerMessage]</c> method's parameters by name), if any.</param>
public sealed record LogEntry(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception, IReadOnlyList<KeyValuePair<string, object?>>? Values = null)
{
    /// <summary>Gets the structured value named <paramref name="name"/>, or <see langword="null"/>.</summary>
    /// <param name="name">The value's name, as the message template spells it.</param>
    /// <returns>The value.</returns>
    public object? Value(string name)
    {
        if (Values is not null)
        {
            foreach (var (key, value) in Values)
            {
                if (key == name)
                {
                    return value;
                }
            }
        }

        return null;
    }
}
