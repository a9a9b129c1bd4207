using System.Collections.Concurrent;
using System.Net;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.Core.Tests;

/// <summary>
/// Requests the client got wrong (Kestrel's <see cref="BadHttpRequestException"/>: a body too slow, cut short or
/// malformed) are answered with their own 4xx problem, without an error log; real failures still log.
/// </summary>
public sealed class ClientErrorTests
{
    [Fact]
    public async Task BadRequestFromTheServer_IsItsStatusWithoutErrorLog_WhileAnAppFailureStillLogs()
    {
        var logs = new Logs();
        await using var app = await TestApp.StartKestrelAsync(
            builder =>
            {
                builder.Logging.AddProvider(logs);
                builder.Services.AddAiEdgeCore();
            },
            app =>
            {
                app.UseAiEdge();
                app.MapPost("/slow", static IResult () => throw new BadHttpRequestException("Reading the request body timed out.", StatusCodes.Status408RequestTimeout));
                app.MapPost("/broken", static IResult () => throw new InvalidOperationException("model crashed"));
            });

        using var slow = await app.Client.PostAsync("/slow", new StringContent("{}"));
        var afterSlow = logs.Errors;
        using var broken = await app.Client.PostAsync("/broken", new StringContent("{}"));

        await ProblemAssert.IsProblemAsync(slow, HttpStatusCode.RequestTimeout);
        Assert.Empty(afterSlow);
        await ProblemAssert.IsProblemAsync(broken, HttpStatusCode.InternalServerError);
        Assert.Contains(logs.Errors, static e => e.Contains("model crashed", StringComparison.Ordinal));
    }

    private sealed class Logs : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _errors = new();

        public IReadOnlyList<string> Errors => [.. _errors];

        public ILogger CreateLogger(string categoryName) => new Logger(_errors);

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<string> errors) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (logLevel >= LogLevel.Error)
                {
                    errors.Enqueue(formatter(state, exception) + " " + exception?.Message);
                }
            }
        }
    }
}
