using System.Net;
using AiEdge.Middleware.Caching;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Caching.Tests;

/// <summary>
/// The cache's tee on Kestrel's own response writer: an endpoint that writes through the pipe writer (as JSON
/// results do) reaches the client unchanged and is stored byte for byte, over many writer segments; a 5xx that a
/// stale entry replaces never reaches the client.
/// </summary>
public sealed class ResponseTeeKestrelTests
{
    private const string Body = """{"model":"m","input":"good day"}""";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(10)]
    [InlineData(100_000)]
    public async Task PipeWriterAnswer_IsSentAndStoredByteForByte(int length)
    {
        var runs = 0;
        await using var app = await CachingHost.StartAsync(
            a => a.MapPost("/predict", async (HttpContext context) =>
            {
                Interlocked.Increment(ref runs);
                context.Response.ContentType = "text/plain";
                var writer = context.Response.BodyWriter;
                for (var written = 0; written < length;)
                {
                    // Small, uneven advances into the writer's memory, flushed now and then.
                    var span = writer.GetSpan(1);
                    var count = Math.Min(Math.Min(span.Length, 7 + (written % 13)), length - written);
                    for (var i = 0; i < count; i++)
                    {
                        span[i] = (byte)('a' + ((written + i) % 26));
                    }

                    writer.Advance(count);
                    written += count;
                    if (written % 4096 < count)
                    {
                        await writer.FlushAsync(context.RequestAborted);
                    }
                }
            }).WithPredictionCache(),
            cache: static options => options.Anonymous = AnonymousCaching.Shared,
            kestrel: true);

        using var miss = await app.Client.SendAsync(CachingHost.Post("/predict", Body)).WaitAsync(Timeout);
        using var hit = await app.Client.SendAsync(CachingHost.Post("/predict", Body)).WaitAsync(Timeout);
        var expected = new string(Enumerable.Range(0, length).Select(static i => (char)('a' + (i % 26))).ToArray());

        Assert.Equal("MISS", CachingHost.XCache(miss));
        Assert.Equal(expected, await miss.Content.ReadAsStringAsync());
        Assert.Equal("HIT", CachingHost.XCache(hit));
        Assert.Equal(expected, await hit.Content.ReadAsStringAsync());
        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task ServerErrorWrittenThroughTheWriter_IsReplacedByTheStaleEntry()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var failing = 0;
        await using var app = await CachingHost.StartAsync(
            a => a.MapPost("/predict", () => Volatile.Read(ref failing) == 0
                ? Results.Json(new { answer = "fresh" })
                : Results.Problem(statusCode: 503, title: "down", detail: new string('x', 20_000))).WithPredictionCache(),
            cache: static options =>
            {
                options.Anonymous = AnonymousCaching.Shared;
                options.Duration = TimeSpan.FromMinutes(1);
                options.StaleIfError = TimeSpan.FromMinutes(2);
            },
            time: time,
            kestrel: true);

        using var fresh = await app.Client.SendAsync(CachingHost.Post("/predict", Body)).WaitAsync(Timeout);
        Volatile.Write(ref failing, 1);
        time.Advance(TimeSpan.FromSeconds(90));
        using var stale = await app.Client.SendAsync(CachingHost.Post("/predict", Body)).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        Assert.Equal("STALE", CachingHost.XCache(stale));
        Assert.Equal("""{"answer":"fresh"}""", await stale.Content.ReadAsStringAsync());
    }
}
