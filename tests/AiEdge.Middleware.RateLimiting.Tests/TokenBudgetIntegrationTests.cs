using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using System.Text.Json;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.RateLimiting.Tests;

public sealed class TokenBudgetIntegrationTests
{
    // Prompt "user" + "12345678" = 12 chars = 3 tokens; max_tokens 100: 103 tokens reserved.
    private const string ChatBody = "{\"model\":\"m\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":\"12345678\"}]}";

    private static StringContent Chat() => new(ChatBody, Encoding.UTF8, "application/json");

    private static Task<TestApp> StartAsync(FakeTimeProvider time, long tokens, Action<WebApplication> map, bool kestrel = false)
        => RateLimitHost.StartAsync(
            time,
            o => o.AddTier("generate", t => t.TokenBudget = new RateLimitTokenBudget { Tokens = tokens, Window = "1d" }),
            map,
            kestrel: kestrel);

    /// <summary>An endpoint that reads the whole body (it must still be readable) and reports <c>?used=</c> tokens.</summary>
    private static void MapJsonChat(WebApplication app)
        => app.MapPost("/chat", async (HttpContext context) =>
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body);
            var used = int.Parse(context.Request.Query["used"].ToString());
            var status = context.Request.Query["status"].ToString() is { Length: > 0 } s ? int.Parse(s) : 200;
            if (status != 200)
            {
                return Results.Problem(statusCode: status);
            }

            return Results.Json(new
            {
                echo_max_tokens = body.RootElement.GetProperty("max_tokens").GetInt32(),
                usage = new { prompt_tokens = 3, completion_tokens = used - 3, total_tokens = used },
            });
        }).WithRateLimitTier("generate");

    private static async Task<(HttpStatusCode Status, string RateLimit, string Body)> PostAsync(TestApp app, string path)
    {
        using var response = await app.SendAsync(path, method: HttpMethod.Post, content: Chat());
        var body = await response.Content.ReadAsStringAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return (response.StatusCode, response.Header("RateLimit"), body);
    }

    [Fact]
    public async Task Json_ReservesEstimate_ThenSettlesDownAndUpToTheRealUsage()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await StartAsync(time, 1000, MapJsonChat);

        var first = await PostAsync(app, "/chat?used=20");
        var second = await PostAsync(app, "/chat?used=300");
        var third = await PostAsync(app, "/chat?used=103");

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Contains("\"echo_max_tokens\":100", first.Body);

        // 1000 - 103 reserved; settled to 20, so the next reservation leaves 1000 - 20 - 103.
        Assert.Matches("^\"generate\";r=897;t=\\d+;aiedge-tokens=897$", first.RateLimit);
        Assert.Contains("aiedge-tokens=877", second.RateLimit);

        // The second used 300: 197 more than reserved.
        Assert.Contains("aiedge-tokens=577", third.RateLimit);
    }

    [Fact]
    public async Task TokenUsageFeature_ReportedUsage_WinsOverTheResponse_AndCharactersAreChargedAtCharsPerToken()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await StartAsync(time, 1000, static app => app.MapPost("/chat", async (HttpContext context) =>
        {
            var usage = context.Features.Get<ITokenUsageFeature>()!;
            if (context.Request.Query["report"] == "usage")
            {
                usage.ReportUsage(promptTokens: 3, completionTokens: 47);
                await context.Response.WriteAsync("{\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":500,\"total_tokens\":503}}");
                return;
            }

            usage.ReportCompletionCharacters(30);
            usage.ReportCompletionCharacters(10);
            await context.Response.WriteAsync("{}");
        }).WithRateLimitTier("generate"));
        await using var unlimited = await RateLimitHost.StartAsync(time, o => o.AddTier("generate", t => t.Rate = "10r/s"), static app => app.MapPost("/chat", (HttpContext context) =>
            Results.Ok(context.Features.Get<ITokenUsageFeature>() is null)).WithRateLimitTier("generate"));

        var reported = await PostAsync(app, "/chat?report=usage");
        var next = await PostAsync(app, "/chat?report=characters");
        var last = await PostAsync(app, "/chat?report=usage");
        var absent = await PostAsync(unlimited, "/chat");

        // 1000 - 103 reserved; settled to the reported 50 (not the response's 503): 1000 - 50 - 103 at the next.
        Assert.Contains("aiedge-tokens=897", reported.RateLimit);
        Assert.Contains("aiedge-tokens=847", next.RateLimit);

        // No usage anywhere, 40 characters reported: 3 prompt + ceil(40 / 4) = 13.
        Assert.Contains("aiedge-tokens=" + (1000 - 50 - 13 - 103), last.RateLimit);
        Assert.Equal("true", absent.Body);
    }

    [Fact]
    public async Task Json_ErrorWithoutUsage_GivesTheWholeReservationBack()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await StartAsync(time, 1000, MapJsonChat);

        var failed = await PostAsync(app, "/chat?used=0&status=400");
        var next = await PostAsync(app, "/chat?used=10");

        Assert.Equal(HttpStatusCode.BadRequest, failed.Status);
        Assert.Contains("aiedge-tokens=897", next.RateLimit);
    }

    [Fact]
    public async Task Budget_Exhausted_Rejects429WithExactRetryAfter()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await StartAsync(time, 200, MapJsonChat);
        await PostAsync(app, "/chat?used=103");

        using var rejected = await app.SendAsync("/chat?used=103", method: HttpMethod.Post, content: Chat());

        var problem = await ProblemAssert.IsProblemAsync(rejected, HttpStatusCode.TooManyRequests);
        Assert.Equal("generate", problem.GetProperty("violated-policies")[0].GetString());

        // 200 tokens a day; 6 more must drain: 6 * 86400 / 200 = 2592 s.
        Assert.Equal("2592", rejected.Header("Retry-After"));
        time.Advance(TimeSpan.FromSeconds(2592));
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(app, "/chat?used=1")).Status);
    }

    [Fact]
    public async Task EventStream_FlushesEventByEvent_AndSettlesToTheFinalUsage()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var firstEventRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var app = await StartAsync(
            time,
            1000,
            a =>
            {
                MapJsonChat(a);
                a.MapPost("/stream", async (HttpContext context) =>
                {
                    using var body = await JsonDocument.ParseAsync(context.Request.Body);
                    context.Response.ContentType = "text/event-stream";
                    await context.Response.WriteAsync("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}],\"usage\":null}\n\n");
                    await context.Response.Body.FlushAsync();
                    await firstEventRead.Task.WaitAsync(TimeSpan.FromSeconds(30));
                    await context.Response.WriteAsync("data: {\"choices\":[{\"delta\":{\"content\":\"b\"}}],\"usage\":null}\n\n");
                    await context.Response.WriteAsync("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":40,\"total_tokens\":42}}\n\n");
                    await context.Response.WriteAsync("data: [DONE]\n\n");
                }).WithRateLimitTier("generate");
            },
            kestrel: true);

        using (var response = await app.Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/stream") { Content = Chat() }, HttpCompletionOption.ResponseHeadersRead)
            .WaitAsync(TimeSpan.FromSeconds(30)))
        {
            await using var stream = await response.Content.ReadAsStreamAsync();
            using var reader = new StreamReader(stream);
            var first = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Contains("\"content\":\"a\"", first);
            firstEventRead.SetResult();
            var rest = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.EndsWith("data: [DONE]\n\n", rest);
        }

        var next = await PostAsync(app, "/chat?used=1");
        Assert.Contains("aiedge-tokens=" + (1000 - 42 - 103), next.RateLimit);
    }

    [Fact]
    public async Task EventStream_ClientGoesAway_ChargesWhatWasProduced()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var settled = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var app = await StartAsync(
            time,
            1000,
            a =>
            {
                MapJsonChat(a);
                a.MapPost("/stream", async (HttpContext context) =>
                {
                    context.Response.ContentType = "text/event-stream";
                    for (var i = 0; i < 2; i++)
                    {
                        await context.Response.WriteAsync("data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n");
                        await context.Response.Body.FlushAsync();
                    }

                    await Task.Delay(Timeout.Infinite, context.RequestAborted).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }).WithRateLimitTier("generate");
            },
            kestrel: true);

        // Only this app's meter: other tests run in parallel and report through meters of their own.
        var meters = app.Services.GetRequiredService<IMeterFactory>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "aiedge.ratelimit.tokens.used" && ReferenceEquals(instrument.Meter.Scope, meters))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => settled.TrySetResult(value));
        listener.Start();

        using (var response = await app.Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/stream") { Content = Chat() }, HttpCompletionOption.ResponseHeadersRead)
            .WaitAsync(TimeSpan.FromSeconds(30)))
        {
            var stream = await response.Content.ReadAsStreamAsync();
            using var reader = new StreamReader(stream);
            for (var lines = 0; lines < 3; lines++)
            {
                await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
        }

        // The prompt (3) plus the two events produced.
        Assert.Equal(5, await settled.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        var next = await PostAsync(app, "/chat?used=1");
        Assert.Contains("aiedge-tokens=" + (1000 - 5 - 103), next.RateLimit);
    }

    [Fact]
    public async Task RequestsAndTokens_OnOneTier_AreAdvertisedTogether()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await RateLimitHost.StartAsync(
            time,
            o => o.AddTier("generate", t =>
            {
                t.Rate = "2r/s";
                t.Burst = 5;
                t.TokenBudget = new RateLimitTokenBudget { Tokens = 20_000, Window = "1m" };
            }),
            MapJsonChat);

        using var response = await app.SendAsync("/chat?used=50", method: HttpMethod.Post, content: Chat());

        Assert.Equal("\"generate\";q=6;w=3;aiedge-token-quota=20000;aiedge-token-window=60", response.Header("RateLimit-Policy"));
        Assert.Equal("\"generate\";r=5;t=1;aiedge-tokens=19897", response.Header("RateLimit"));
    }
}
