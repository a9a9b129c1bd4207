using System.Net;
using System.Text.Json;
using AiEdge.Middleware.Caching;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Caching.Tests;

public sealed class IdempotencyIntegrationTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private sealed class Trainer
    {
        private int _runs;

        public int Runs => Volatile.Read(ref _runs);

        public Func<Task>? Before { get; set; }

        public async Task<IResult> Train(HttpContext context)
        {
            Interlocked.Increment(ref _runs);
            using var document = await JsonDocument.ParseAsync(context.Request.Body);
            if (Before is { } before)
            {
                await before();
            }

            if (document.RootElement.TryGetProperty("fail", out _))
            {
                return Results.Problem(statusCode: 400, title: "bad dataset");
            }

            if (document.RootElement.TryGetProperty("crash", out _))
            {
                throw new InvalidOperationException("crashed");
            }

            context.Response.Headers["X-Job-Location"] = "/jobs";
            return Results.Accepted(value: new { job = Guid.NewGuid().ToString("n") });
        }
    }

    private static Task<TestApp> StartAsync(Trainer trainer, Action<IdempotencyOptions>? configure = null, TimeProvider? time = null)
        => CachingHost.StartAsync(
            app =>
            {
                app.MapPost("/train", (Delegate)trainer.Train).WithIdempotency();
                app.MapPost("/train-required", (Delegate)trainer.Train).WithIdempotency(required: true);
                app.MapPatch("/train", (Delegate)trainer.Train).WithIdempotency();
                app.MapPut("/train", (Delegate)trainer.Train).WithIdempotency();
                app.MapPost("/plain", (Delegate)trainer.Train);
            },
            idempotency: configure,
            time: time);

    private static async Task<HttpResponseMessage> SendAsync(TestApp app, string json, string? key, string path = "/train", HttpMethod? method = null, string? user = null)
    {
        var request = CachingHost.Post(path, json);
        request.Method = method ?? HttpMethod.Post;
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        }

        if (user is not null)
        {
            request.Headers.TryAddWithoutValidation(CachingHost.UserHeader, user);
        }

        return await app.Client.SendAsync(request).WaitAsync(Timeout);
    }

    private static async Task<string> JobAsync(HttpResponseMessage response)
        => JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("job").GetString()!;

    [Fact]
    public async Task Retry_SameKeyAndPayload_ReplaysTheFirstResponseWithMarker()
    {
        var trainer = new Trainer();
        await using var app = await StartAsync(trainer);

        using var first = await SendAsync(app, """{"dataset":"d"}""", "\"key-1\"");
        using var retry = await SendAsync(app, """{"dataset":"d"}""", "\"key-1\"");

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        Assert.Equal(await JobAsync(first), await JobAsync(retry));
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal("/jobs", retry.Headers.GetValues("X-Job-Location").Single());
        Assert.Equal(1, trainer.Runs);
    }

    [Fact]
    public async Task Retry_Patch_IsReplayedToo()
    {
        var trainer = new Trainer();
        await using var app = await StartAsync(trainer);

        using var first = await SendAsync(app, "{}", "\"p\"", method: HttpMethod.Patch);
        using var retry = await SendAsync(app, "{}", "\"p\"", method: HttpMethod.Patch);

        Assert.Equal(await JobAsync(first), await JobAsync(retry));
        Assert.Equal(1, trainer.Runs);
    }

    [Fact]
    public async Task Put_IsNotConcerned()
    {
        var trainer = new Trainer();
        await using var app = await StartAsync(trainer);

        using var first = await SendAsync(app, "{}", "\"p\"", method: HttpMethod.Put);
        using var second = await SendAsync(app, "{}", "\"p\"", method: HttpMethod.Put);

        Assert.NotEqual(await JobAsync(first), await JobAsync(second));
        Assert.Equal(2, trainer.Runs);
    }

    [Fact]
    public async Task SameKey_DifferentPayload_Is422Problem()
    {
        var trainer = new Trainer();
        await using var app = await StartAsync(trainer);

        using var first = await SendAsync(app, """{"dataset":"d"}""", "\"key-1\"");
        using var other = await SendAsync(app, """{"dataset":"other"}""", "\"key-1\"");

        await ProblemAssert.IsProblemAsync(other, HttpStatusCode.UnprocessableEntity);
        Assert.Equal(1, trainer.Runs);
    }

    [Fact]
    public async Task Duplicate_WhileFirstRuns_Is409Problem_ThenReplays()
    {
        var trainer = new Trainer();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        trainer.Before = () =>
        {
            started.TrySetResult();
            return gate.Task;
        };
        await using var app = await StartAsync(trainer);

        var first = Task.Run(() => SendAsync(app, "{}", "\"slow\""));
        await started.Task.WaitAsync(Timeout);
        using var duplicate = await SendAsync(app, "{}", "\"slow\"");
        using var differentWhileRunning = await SendAsync(app, """{"x":1}""", "\"slow\"");
        gate.SetResult();
        using var firstResponse = await first.WaitAsync(Timeout);
        using var retry = await SendAsync(app, "{}", "\"slow\"");

        await ProblemAssert.IsProblemAsync(duplicate, HttpStatusCode.Conflict);
        await ProblemAssert.IsProblemAsync(differentWhileRunning, HttpStatusCode.UnprocessableEntity);
        Assert.Equal(await JobAsync(firstResponse), await JobAsync(retry));
        Assert.Equal(1, trainer.Runs);
    }

    [Theory]
    [InlineData("key-without-quotes")]
    [InlineData("\"\"")]
    [InlineData("\"unterminated")]
    [InlineData("\"bad\\escape\"")]
    [InlineData("\"a\", \"b\"")]
    [InlineData("\"a\";param=1")]
    [InlineData("\"caf\u00e9\"")]
    [InlineData(":Ynl0ZXM=:")]
    public async Task MalformedKey_Is400Problem(string key)
    {
        var trainer = new Trainer();
        await using var app = await StartAsync(trainer);

        using var response = await SendAsync(app, "{}", key);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(0, trainer.Runs);
    }

    [Fact]
    public async Task KeyLongerThanLimit_Is400Problem()
    {
        var trainer = new Trainer();
        await using var app = await StartAsync(trainer, options => options.MaxKeyLength = 8);

        using var ok = await SendAsync(app, "{}", "\"12345678\"");
        using var tooLong = await SendAsync(app, "{}", "\"123456789\"");

        Assert.Equal(HttpStatusCode.Accepted, ok.StatusCode);
        await ProblemAssert.IsProblemAsync(tooLong, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task EscapedCharacters_AreOneKey()
    {
        var trainer = new Trainer();
        await using var app = await StartAsync(trainer);

        using var first = await SendAsync(app, "{}", "\"a\\\"b\"");
        using var retry = await SendAsync(app, "{}", "  \"a\\\"b\"");

        Assert.Equal(await JobAsync(first), await JobAsync(retry));
    }

    [Fact]
    public async Task MissingKey_WhenRequired_Is400Problem()
    {
        var trainer = new Trainer();
        await using var app = await StartAsync(trainer);

        using var endpointRequired = await SendAsync(app, "{}", null, "/train-required");
        using var optional = await SendAsync(app, "{}", null);

        await ProblemAssert.IsProblemAsync(endpointRequired, HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.Accepted, optional.StatusCode);
    }

    [Fact]
    public async Task MissingKey_WhenRequiredByOptions_Is400Problem()
    {
        var trainer = new Trainer();
        await using var app = await StartAsync(trainer, options => options.Required = true);

        using var response = await SendAsync(app, "{}", null);
        using var plain = await SendAsync(app, "{}", null, "/plain");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.Accepted, plain.StatusCode);
    }

    [Fact]
    public async Task MissingKey_NotRequired_RunsEveryTime()
    {
        var trainer = new Trainer();
        await using var app = await StartAsync(trainer);

        using var first = await SendAsync(app, "{}", null);
        using var second = await SendAsync(app, "{}", null);

        Assert.NotEqual(await JobAsync(first), await JobAsync(second));
    }

    [Fact]
    public async Task ErrorResponse_IsRecordedAndReplayed()
    {
        var trainer = new Trainer();
        await using var app = await StartAsync(trainer);

        using var first = await SendAsync(app, """{"fail":true}""", "\"e\"");
        using var retry = await SendAsync(app, """{"fail":true}""", "\"e\"");

        await ProblemAssert.IsProblemAsync(first, HttpStatusCode.BadRequest);
        await ProblemAssert.IsProblemAsync(retry, HttpStatusCode.BadRequest);
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(1, trainer.Runs);
    }

    [Fact]
    public async Task FirstRequestThrows_KeyIsFreedForARetry()
    {
        var trainer = new Trainer();
        await using var app = await StartAsync(trainer);

        using var first = await SendAsync(app, """{"crash":true}""", "\"c\"");
        using var retry = await SendAsync(app, """{"crash":true}""", "\"c\"");

        Assert.Equal(HttpStatusCode.InternalServerError, first.StatusCode);
        Assert.False(retry.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(2, trainer.Runs);
    }

    [Fact]
    public async Task Keys_AreScopedPerClient()
    {
        var trainer = new Trainer();
        await using var app = await StartAsync(trainer);

        using var alice = await SendAsync(app, "{}", "\"shared\"", user: "alice");
        using var bob = await SendAsync(app, "{}", "\"shared\"", user: "bob");
        using var aliceRetry = await SendAsync(app, "{}", "\"shared\"", user: "alice");

        Assert.NotEqual(await JobAsync(alice), await JobAsync(bob));
        Assert.Equal(await JobAsync(alice), await JobAsync(aliceRetry));
        Assert.Equal(2, trainer.Runs);
    }

    [Fact]
    public async Task Keys_AreScopedPerEndpoint()
    {
        var trainer = new Trainer();
        await using var app = await StartAsync(trainer);

        using var train = await SendAsync(app, "{}", "\"k\"");
        using var other = await SendAsync(app, "{}", "\"k\"", "/train-required");

        Assert.NotEqual(await JobAsync(train), await JobAsync(other));
    }

    [Fact]
    public async Task AfterRetention_TheKeyRunsAgain()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var trainer = new Trainer();
        await using var app = await StartAsync(trainer, time: time);

        using var first = await SendAsync(app, "{}", "\"r\"");
        time.Advance(TimeSpan.FromHours(23));
        using var within = await SendAsync(app, "{}", "\"r\"");
        time.Advance(TimeSpan.FromHours(1));
        using var after = await SendAsync(app, "{}", "\"r\"");

        Assert.Equal(await JobAsync(first), await JobAsync(within));
        Assert.NotEqual(await JobAsync(first), await JobAsync(after));
        Assert.Equal(2, trainer.Runs);
    }

    [Fact]
    public async Task EndpointWithoutMetadata_IgnoresTheKey()
    {
        var trainer = new Trainer();
        await using var app = await StartAsync(trainer);

        using var first = await SendAsync(app, "{}", "not even valid", "/plain");
        using var second = await SendAsync(app, "{}", "not even valid", "/plain");

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(2, trainer.Runs);
    }
}
