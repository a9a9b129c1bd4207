using System.Text.Json;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.Core.Tests;

/// <summary>
/// Broken request framing sent over raw sockets to real Kestrel (TestServer parses no chunked encoding): whoever
/// reads the body, a minimal API's JSON binder or the endpoint's own parser, the answer is a 4xx problem, never a
/// 500, and nothing is logged as an error.
/// </summary>
public sealed class MalformedBodyIntegrationTests
{
    private const string Chunked = "Transfer-Encoding: chunked\r\n\r\n";

    public static TheoryData<string, string, int> Framings => new()
    {
        { "9 decimal digits of chunk size", Chunked + "999999999\r\n{}\r\n0\r\n\r\n", 400 },
        { "8 hex digits of chunk size", Chunked + "FFFFFFFF\r\n{}\r\n0\r\n\r\n", 400 },
        { "17 hex digits of chunk size", Chunked + "10000000000000000\r\n{}\r\n0\r\n\r\n", 400 },
        { "20 hex digits of chunk size", Chunked + "FFFFFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n", 400 },
        { "negative chunk size", Chunked + "-2\r\n{}\r\n0\r\n\r\n", 400 },
        { "garbage chunk size", Chunked + "zz\r\n{}\r\n0\r\n\r\n", 400 },
        { "empty chunk size", Chunked + "\r\n{}\r\n0\r\n\r\n", 400 },
        { "bare LF in a chunk extension", Chunked + "2;a=b\n{}\r\n0\r\n\r\n", 400 },
        { "CR without LF after a chunk extension", Chunked + "2;a=b\rX{}\r\n0\r\n\r\n", 400 },
        { "missing CRLF after chunk data", Chunked + "2\r\n{}XX0\r\n\r\n", 400 },
        { "chunk data longer than its size", Chunked + "1\r\n{}\r\n0\r\n\r\n", 400 },
    };

    public static TheoryData<string> Routes => new() { "/bind", "/parse" };

    public static TheoryData<string, string, string, int> FramingsOnRoutes
    {
        get
        {
            var data = new TheoryData<string, string, string, int>();
            foreach (var route in new[] { "/bind", "/parse" })
            {
                foreach (var framing in Framings)
                {
                    data.Add(route, (string)framing[0], (string)framing[1], (int)framing[2]);
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(FramingsOnRoutes))]
    public async Task MalformedChunkedBody_IsA400Problem_WithoutErrorLog(string route, string name, string framing, int status)
    {
        var logs = new LogCapture();
        await using var app = await StartAsync(logs);
        await using var connection = await RawHttpConnection.OpenAsync(app.BaseAddress);

        await connection.SendAsync("POST " + route + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" + framing);
        var response = await connection.ReadResponseAsync();

        Assert.True(status == response.StatusCode, name + ": " + response.StatusCode + " " + response.Body);
        AssertProblem(response, status);
        await AssertNoErrorsAsync(app, logs);
        if (route == "/parse")
        {
            // The endpoint's own reader threw: the Errors stage answered and logged it at Debug. (A minimal API's
            // binder answers 400 itself and the stage gives that answer its problem body.)
            Assert.Contains(logs.Entries, static e => e.EventId.Id == 1960 && e.Level == LogLevel.Debug);
        }
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task BodyShorterThanContentLength_ClientStopsSending_IsA408Problem(string route)
    {
        var logs = new LogCapture();
        await using var app = await StartAsync(logs, minimumBodyRate: true);
        await using var connection = await RawHttpConnection.OpenAsync(app.BaseAddress);

        await connection.SendAsync("POST " + route + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":1}");
        var response = await connection.ReadResponseAsync();

        Assert.Equal(408, response.StatusCode);
        AssertProblem(response, 408);
        await AssertNoErrorsAsync(app, logs);
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task BodyShorterThanContentLength_ClientEndsTheConnection_IsNotAnError(string route)
    {
        var logs = new LogCapture();
        await using var app = await StartAsync(logs);
        await using var connection = await RawHttpConnection.OpenAsync(app.BaseAddress);

        await connection.SendAsync("POST " + route + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":1}");
        connection.ShutdownSend();

        Assert.True(await connection.IsClosedByServerAsync(TimeSpan.FromSeconds(30)));
        await AssertNoErrorsAsync(app, logs);
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task ContentLengthAboveTheServersLimit_IsA413Problem_NotKestrelsPlain413(string route)
    {
        var logs = new LogCapture();
        await using var app = await StartAsync(logs, maxRequestBodySize: 1024);
        await using var connection = await RawHttpConnection.OpenAsync(app.BaseAddress);

        await connection.SendAsync("POST " + route + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n");
        var response = await connection.ReadResponseAsync();

        Assert.Equal(413, response.StatusCode);
        AssertProblem(response, 413);
        await AssertNoErrorsAsync(app, logs);
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task ChunkedBodyAboveTheServersLimit_IsA413Problem(string route)
    {
        var logs = new LogCapture();
        await using var app = await StartAsync(logs, maxRequestBodySize: 1024);
        await using var connection = await RawHttpConnection.OpenAsync(app.BaseAddress);

        var chunk = new string(' ', 2000);
        await connection.SendAsync("POST " + route + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" + Chunked + "7D0\r\n" + chunk + "\r\n");
        var response = await connection.ReadResponseAsync();

        Assert.Equal(413, response.StatusCode);
        AssertProblem(response, 413);
        await AssertNoErrorsAsync(app, logs);
    }

    [Fact]
    public async Task BodyLongerThanContentLength_TheRestIsANewRequest_NeverAServerError()
    {
        var logs = new LogCapture();
        await using var app = await StartAsync(logs);
        await using var connection = await RawHttpConnection.OpenAsync(app.BaseAddress);

        await connection.SendAsync("POST /bind HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"value\":1}{\"value\":2} GARBAGE\r\n\r\n");
        var first = await connection.ReadResponseAsync();
        var rest = await connection.ReadResponseAsync();

        Assert.Equal(200, first.StatusCode);
        Assert.Equal("1", first.Body);
        Assert.Equal(400, rest.StatusCode);
        await AssertNoErrorsAsync(app, logs);
    }

    [Theory]
    [InlineData("Transfer-Encoding: gzip\r\n\r\n{}")]
    [InlineData("Transfer-Encoding: chunked, gzip\r\n\r\n2\r\n{}\r\n0\r\n\r\n")]
    [InlineData("Transfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n1\r\n{}\r\n0\r\n\r\n")]
    [InlineData("Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}")]
    [InlineData("Content-Length: -2\r\n\r\n{}")]
    [InlineData("Content-Length: 99999999999999999999999\r\n\r\n{}")]
    public async Task InvalidFramingHeaders_AreA400_NeverAServerError(string framing)
    {
        var logs = new LogCapture();
        await using var app = await StartAsync(logs);
        await using var connection = await RawHttpConnection.OpenAsync(app.BaseAddress);

        await connection.SendAsync("POST /bind HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" + framing);
        var response = await connection.ReadResponseAsync();

        Assert.Equal(400, response.StatusCode);
        if (response.Body.Length > 0)
        {
            AssertProblem(response, 400);
        }

        await AssertNoErrorsAsync(app, logs);
    }

    [Theory]
    [InlineData(64)]
    [InlineData(2 * 1024 * 1024)]
    public async Task LongChunkExtension_IsIgnoredOrA400_NeverAServerError(int length)
    {
        var logs = new LogCapture();
        await using var app = await StartAsync(logs);
        await using var connection = await RawHttpConnection.OpenAsync(app.BaseAddress);

        await connection.SendAsync("POST /parse HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" + Chunked + "2;" + new string('a', length) + "\r\n{}\r\n0\r\n\r\n");
        var response = await connection.ReadResponseAsync();

        // RFC 9112 lets a server ignore chunk extensions it does not understand; a refusal must still be a 400 problem.
        Assert.True(response.StatusCode is 200 or 400, response.StatusCode + " " + response.Body);
        if (response.StatusCode == 400)
        {
            AssertProblem(response, 400);
        }

        await AssertNoErrorsAsync(app, logs);
    }

    [Fact]
    public async Task MalformedBody_IsCountedAsARejectionOfTheRequest()
    {
        var seen = new System.Collections.Concurrent.ConcurrentQueue<(string? Concern, string? Reason)>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = static (instrument, l) =>
        {
            if (instrument.Meter.Name == AiEdgeDiagnostics.MeterName && instrument.Name == "aiedge.rejections")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            string? concern = null, reason = null;
            foreach (var tag in tags)
            {
                if (tag.Key == AiEdgeDiagnostics.Tags.Concern) concern = tag.Value as string;
                if (tag.Key == AiEdgeDiagnostics.Tags.Reason) reason = tag.Value as string;
            }

            seen.Enqueue((concern, reason));
        });
        listener.Start();
        var logs = new LogCapture();
        await using var app = await StartAsync(logs, maxRequestBodySize: 1024);

        await using (var connection = await RawHttpConnection.OpenAsync(app.BaseAddress))
        {
            await connection.SendAsync("POST /parse HTTP/1.1\r\nHost: localhost\r\n" + Chunked + "999999999\r\n{}\r\n0\r\n\r\n");
            Assert.Equal(400, (await connection.ReadResponseAsync()).StatusCode);
        }

        await using (var connection = await RawHttpConnection.OpenAsync(app.BaseAddress))
        {
            await connection.SendAsync("POST /parse HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4096\r\n\r\n");
            Assert.Equal(413, (await connection.ReadResponseAsync()).StatusCode);
        }

        Assert.Contains(("request", "bad_request"), seen);
        Assert.Contains(("request", "body_too_large"), seen);
    }

    [Fact]
    public async Task ClientGoneMidBody_IsNotAnError()
    {
        var logs = new LogCapture();
        var reading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var app = await StartAsync(logs, reading: reading);
        var connection = await RawHttpConnection.OpenAsync(app.BaseAddress);

        await connection.SendAsync("POST /parse HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" + Chunked + "5\r\n{\"a\":");
        await reading.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await connection.DisposeAsync();

        await AssertNoErrorsAsync(app, logs);
    }

    private static void AssertProblem(RawHttpResponse response, int status)
    {
        Assert.Equal("application/problem+json", response.MediaType);
        using var document = JsonDocument.Parse(response.Body);
        Assert.Equal(status, document.RootElement.GetProperty("status").GetInt32());
    }

    /// <summary>Stops the host first, so every request it was serving has finished logging.</summary>
    private static async Task AssertNoErrorsAsync(TestApp app, LogCapture logs)
    {
        await app.App.StopAsync();
        Assert.Empty(logs.Errors());
    }

    private static Task<TestApp> StartAsync(LogCapture logs, long? maxRequestBodySize = null, TaskCompletionSource? reading = null, bool minimumBodyRate = false)
        => TestApp.StartKestrelAsync(
            builder =>
            {
                builder.Logging.AddProvider(logs);
                builder.Logging.SetMinimumLevel(LogLevel.Debug);
                if (maxRequestBodySize is { } max)
                {
                    builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = max);
                }

                if (minimumBodyRate)
                {
                    // Kestrel's own guard against a body that stops arriving (240 B/s after a 5 s grace by default).
                    builder.WebHost.ConfigureKestrel(static kestrel => kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(240, TimeSpan.FromSeconds(2)));
                }

                builder.Services.AddAiEdgeCore();
            },
            app =>
            {
                app.UseAiEdge();
                app.MapPost("/bind", static (Payload payload) => Results.Text(payload.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                app.MapPost("/parse", async (HttpContext context) =>
                {
                    reading?.TrySetResult();
                    using var document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
                    return Results.Text(document.RootElement.ValueKind.ToString());
                });
            });

    private sealed record Payload(int Value);
}
