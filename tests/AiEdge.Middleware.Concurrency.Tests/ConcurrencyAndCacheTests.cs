using System.Net;
using System.Text;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Concurrency.Tests;

/// <summary>The concurrency stage runs after the prediction cache: a cache hit never takes (or waits for) a slot.</summary>
public sealed class ConcurrencyAndCacheTests
{
    [Fact]
    public async Task CacheHit_WhileTheOnlySlotIsHeld_IsServedWithoutASlot()
    {
        var valve = new Valve();
        var runs = 0;
        await using var app = await ConcurrencyHost.StartAsync(
            new FakeTimeProvider(TestClock.Start),
            o => o.AddTier("generate", t => t.Limit = 1),
            a => a.MapPost("/predict", async (HttpContext c) =>
                {
                    Interlocked.Increment(ref runs);
                    using var reader = new StreamReader(c.Request.Body, Encoding.UTF8);
                    var body = await reader.ReadToEndAsync(c.RequestAborted);
                    if (body.Contains("slow", StringComparison.Ordinal))
                    {
                        await valve.PassAsync(c.RequestAborted);
                    }

                    return Results.Json(new { echo = body.Length });
                })
                .WithPredictionCache()
                .WithConcurrencyTier("generate"),
            new Dictionary<string, string?> { ["AiEdge:Caching:Anonymous"] = "Shared" },
            edge: static edge => edge.AddPredictionCache());

        using (var miss = await PostAsync(app, "{\"input\":\"fast\"}"))
        {
            Assert.Equal(HttpStatusCode.OK, miss.StatusCode);
            Assert.Equal("MISS", string.Join(",", miss.Headers.GetValues("X-Cache")));

            // The headers arrive before the server is done: its body ends only once the request's pipeline has
            // returned, the answer stored and the slot given back.
            await miss.Content.ReadAsStringAsync();
        }

        await app.InFlightAsync("generate", 0);
        var holder = PostAsync(app, "{\"input\":\"slow\"}");
        await ConcurrencyHost.UntilAsync(() => valve.Entered == 1, "the slow request holds the only slot");

        using (var hit = await PostAsync(app, "{\"input\":\"fast\"}"))
        {
            Assert.Equal(HttpStatusCode.OK, hit.StatusCode);
            Assert.Equal("HIT", string.Join(",", hit.Headers.GetValues("X-Cache")));
        }

        // A miss needs the slot the slow request holds: the tier (no queue) refuses it, which shows the slot was held.
        using (var refused = await PostAsync(app, "{\"input\":\"other\"}"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }

        Assert.Equal(1, app.Tier("generate").Totals().InFlight);
        valve.Release();
        using (var slow = await holder) { Assert.Equal(HttpStatusCode.OK, slow.StatusCode); }
        await app.InFlightAsync("generate", 0);
        Assert.Equal(2, Volatile.Read(ref runs));
    }

    private static async Task<HttpResponseMessage> PostAsync(TestApp app, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/predict") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        return await app.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(TimeSpan.FromSeconds(30));
    }
}
