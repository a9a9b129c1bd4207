using System.Net;
using System.Text.Json;
using AiEdge.Middleware.Caching;
using AiEdge.Middleware.Caching.Internal;
using AiEdge.Middleware.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Caching.Tests;

public sealed class PredictionCacheIntegrationTests
{
    private const string Body = """{"model":"m","input":"good day","temperature":0}""";

    /// <summary>A deterministic endpoint that echoes its body and numbers its runs.</summary>
    private sealed class Model
    {
        private int _runs;

        public int Runs => Volatile.Read(ref _runs);

        public Func<HttpContext, Task>? Before { get; set; }

        public async Task<IResult> Predict(HttpContext context)
        {
            var run = Interlocked.Increment(ref _runs);
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            if (Before is { } before)
            {
                await before(context);
            }

            context.Response.Headers["X-Model"] = "v1";
            context.Response.Headers.SetCookie = "session=abc";
            return Results.Json(new { invocation = Guid.NewGuid().ToString("n"), run, length = body.Length });
        }

        public void Map(WebApplication app, string? policy = null)
        {
            app.MapPost("/predict", (Delegate)Predict).WithPredictionCache(policy);
            app.MapPost("/predict/{id}", (Delegate)Predict).WithPredictionCache(policy);
            app.MapPost("/plain", (Delegate)Predict);
        }
    }

    private static Task<TestApp> StartAsync(Model model, Action<PredictionCacheOptions>? configure = null, TimeProvider? time = null, string? policy = null, Action<IServiceCollection>? services = null, bool kestrel = false)
        => CachingHost.StartAsync(app => model.Map(app, policy), cache: options =>
        {
            options.Anonymous = AnonymousCaching.Shared;
            configure?.Invoke(options);
        }, time: time, services: services, kestrel: kestrel);

    private static async Task<(HttpResponseMessage Response, string Invocation, string Text)> SendAsync(TestApp app, string path, string json, params (string, string)[] headers)
    {
        var response = await app.Client.SendAsync(CachingHost.Post(path, json, headers)).WaitAsync(TimeSpan.FromSeconds(30));
        var text = await response.Content.ReadAsStringAsync();
        var invocation = response.IsSuccessStatusCode && text.StartsWith('{') && JsonDocument.Parse(text).RootElement.TryGetProperty("invocation", out var i) ? i.GetString()! : "";
        return (response, invocation, text);
    }

    [Fact]
    public async Task Predict_RepeatedIdenticalRequest_IsHitWithSameBodyAndOneRun()
    {
        var model = new Model();
        await using var app = await StartAsync(model);

        var first = await SendAsync(app, "/predict", Body);
        var second = await SendAsync(app, "/predict", Body);

        Assert.Equal(HttpStatusCode.OK, second.Response.StatusCode);
        Assert.Equal("MISS", CachingHost.XCache(first.Response));
        Assert.Equal("HIT", CachingHost.XCache(second.Response));
        Assert.Equal(first.Text, second.Text);
        Assert.Equal(1, model.Runs);
        Assert.Null(second.Response.Headers.Age);
        Assert.Equal("application/json", second.Response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(second.Text.Length, second.Response.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task Predict_Hit_ReplaysEndpointHeadersButNeverSetCookie()
    {
        var model = new Model();
        await using var app = await StartAsync(model);

        await SendAsync(app, "/predict", Body);
        var hit = await SendAsync(app, "/predict", Body);

        Assert.Equal("HIT", CachingHost.XCache(hit.Response));
        Assert.Equal("v1", hit.Response.Headers.GetValues("X-Model").Single());
        Assert.False(hit.Response.Headers.Contains("Set-Cookie"));
    }

    [Theory]
    [InlineData("""{"input":"good day","temperature":0,"model":"m"}""")]
    [InlineData("  { \"model\" : \"m\",\n  \"input\" : \"good day\" ,\t \"temperature\" : 0 }  ")]
    [InlineData("""{"temperature":0,"input":"good\u0020day","model":"m"}""")]
    public async Task Predict_KeyOrderWhitespaceAndEscapes_DoNotChangeTheKey(string equivalent)
    {
        var model = new Model();
        await using var app = await StartAsync(model);

        var first = await SendAsync(app, "/predict", Body);
        var second = await SendAsync(app, "/predict", equivalent);

        Assert.Equal("HIT", CachingHost.XCache(second.Response));
        Assert.Equal(first.Invocation, second.Invocation);
    }

    [Theory]
    [InlineData("/predict", """{"model":"m","input":"good day!","temperature":0}""")]
    [InlineData("/predict", """{"model":"m","input":"good day","temperature":0,"stream":true}""")]
    [InlineData("/predict", """{"model":"m","input":"good day","temperature":0.0}""")]
    [InlineData("/predict", """[{"model":"m","input":"good day","temperature":0}]""")]
    [InlineData("/predict?v=2", """{"model":"m","input":"good day","temperature":0}""")]
    [InlineData("/predict/7", """{"model":"m","input":"good day","temperature":0}""")]
    public async Task Predict_DifferentRequest_IsMiss(string path, string json)
    {
        var model = new Model();
        await using var app = await StartAsync(model);

        await SendAsync(app, "/predict", Body);
        var other = await SendAsync(app, path, json);

        Assert.Equal("MISS", CachingHost.XCache(other.Response));
        Assert.Equal(2, model.Runs);
    }

    [Fact]
    public async Task Predict_ExcludedFieldsDiffer_IsHit()
    {
        var model = new Model();
        await using var app = await StartAsync(model, options =>
        {
            options.ExcludedJsonFields.Add("user");
            options.ExcludedJsonFields.Add("request_id");
        });

        var first = await SendAsync(app, "/predict", """{"model":"m","input":"x","user":"alice","request_id":"1"}""");
        var second = await SendAsync(app, "/predict", """{"request_id":"2","model":"m","input":"x","user":"bob"}""");
        var nested = await SendAsync(app, "/predict", """{"model":"m","input":"x","meta":{"user":"carol"}}""");

        Assert.Equal("HIT", CachingHost.XCache(second.Response));
        Assert.Equal(first.Invocation, second.Invocation);
        Assert.Equal("MISS", CachingHost.XCache(nested.Response));
    }

    [Fact]
    public async Task Predict_VaryByHeader_SeparatesEntries()
    {
        var model = new Model();
        await using var app = await StartAsync(model, options => options.VaryByHeaders.Add("X-Model-Version"));

        await SendAsync(app, "/predict", Body, ("X-Model-Version", "1"));
        var sameVersion = await SendAsync(app, "/predict", Body, ("X-Model-Version", "1"));
        var otherVersion = await SendAsync(app, "/predict", Body, ("X-Model-Version", "2"));

        Assert.Equal("HIT", CachingHost.XCache(sameVersion.Response));
        Assert.Equal("MISS", CachingHost.XCache(otherVersion.Response));
    }

    [Fact]
    public async Task Predict_VaryByQuery_OnlySelectedParametersCount()
    {
        var model = new Model();
        await using var app = await StartAsync(model, options => options.VaryByQuery.Add("model"));

        await SendAsync(app, "/predict?model=a&trace=1", Body);
        var otherTrace = await SendAsync(app, "/predict?trace=2&model=a", Body);
        var otherModel = await SendAsync(app, "/predict?model=b", Body);

        Assert.Equal("HIT", CachingHost.XCache(otherTrace.Response));
        Assert.Equal("MISS", CachingHost.XCache(otherModel.Response));
    }

    [Fact]
    public async Task Predict_AuthenticatedCallers_NeverShareEntries()
    {
        var model = new Model();
        await using var app = await StartAsync(model);

        var alice = await SendAsync(app, "/predict", Body, (CachingHost.UserHeader, "alice"));
        var bob = await SendAsync(app, "/predict", Body, (CachingHost.UserHeader, "bob"));
        var anonymous = await SendAsync(app, "/predict", Body);
        var aliceAgain = await SendAsync(app, "/predict", Body, (CachingHost.UserHeader, "alice"));

        Assert.Equal("MISS", CachingHost.XCache(bob.Response));
        Assert.Equal("MISS", CachingHost.XCache(anonymous.Response));
        Assert.NotEqual(alice.Invocation, bob.Invocation);
        Assert.Equal("HIT", CachingHost.XCache(aliceAgain.Response));
        Assert.Equal(alice.Invocation, aliceAgain.Invocation);
    }

    [Fact]
    public async Task Predict_AnonymousByDefault_Bypasses()
    {
        var model = new Model();
        await using var app = await CachingHost.StartAsync(a => model.Map(a));

        var first = await SendAsync(app, "/predict", Body);
        var second = await SendAsync(app, "/predict", Body);
        var authenticated = await SendAsync(app, "/predict", Body, (CachingHost.UserHeader, "alice"));

        Assert.Equal("BYPASS", CachingHost.XCache(first.Response));
        Assert.Equal("BYPASS", CachingHost.XCache(second.Response));
        Assert.Equal("MISS", CachingHost.XCache(authenticated.Response));
        Assert.Equal(3, model.Runs);
    }

    [Fact]
    public async Task Predict_InvalidJson_IsKeyedOnRawBytesAndNeverAnError()
    {
        var model = new Model();
        await using var app = await StartAsync(model);

        var first = await SendAsync(app, "/predict", "{not json");
        var second = await SendAsync(app, "/predict", "{not json");
        var other = await SendAsync(app, "/predict", "{not json!");

        Assert.Equal(HttpStatusCode.OK, first.Response.StatusCode);
        Assert.Equal("HIT", CachingHost.XCache(second.Response));
        Assert.Equal("MISS", CachingHost.XCache(other.Response));
    }

    [Theory]
    [InlineData("{\"input\":\"\\ud800\"}")]
    [InlineData("{\"\\udfff\":1}")]
    public async Task Predict_JsonWithALoneSurrogateEscape_IsKeyedOnRawBytesAndNeverAnError(string body)
    {
        var model = new Model();
        await using var app = await StartAsync(model);

        var first = await SendAsync(app, "/predict", body);
        var second = await SendAsync(app, "/predict", body);

        Assert.Equal(HttpStatusCode.OK, first.Response.StatusCode);
        Assert.Equal("MISS", CachingHost.XCache(first.Response));
        Assert.Equal("HIT", CachingHost.XCache(second.Response));
        Assert.Equal(1, model.Runs);
    }

    [Fact]
    public async Task Predict_InvalidJsonWithBypass_Bypasses()
    {
        var model = new Model();
        await using var app = await StartAsync(model, options => options.InvalidJson = InvalidJsonHandling.Bypass);

        var first = await SendAsync(app, "/predict", "{not json");
        var second = await SendAsync(app, "/predict", "{not json");

        Assert.Equal("BYPASS", CachingHost.XCache(second.Response));
        Assert.Equal(2, model.Runs);
        Assert.Equal(HttpStatusCode.OK, first.Response.StatusCode);
    }

    [Fact]
    public async Task Predict_BodyLargerThanLimit_BypassesAndEndpointStillReadsAllOfIt()
    {
        var model = new Model();
        await using var app = await StartAsync(model, options => options.MaxRequestBodySize = 100);
        var large = "{\"input\":\"" + new string('a', 5000) + "\"}";

        // Chunked (no Content-Length): the cache reads past its limit, then hands every byte on.
        var request = new HttpRequestMessage(HttpMethod.Post, "/predict") { Content = new StreamContent(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(large))) };
        request.Content.Headers.ContentType = new("application/json");
        using var response = await app.Client.SendAsync(request).WaitAsync(TimeSpan.FromSeconds(30));
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal("BYPASS", CachingHost.XCache(response));
        Assert.Equal(large.Length, body.GetProperty("length").GetInt32());
    }

    [Fact]
    public async Task Predict_EndpointReadsTheBodyTheCacheRead()
    {
        var model = new Model();
        await using var app = await StartAsync(model);

        var response = await SendAsync(app, "/predict", Body);

        Assert.Equal(Body.Length, JsonDocument.Parse(response.Text).RootElement.GetProperty("length").GetInt32());
    }

    [Fact]
    public async Task Predict_ErrorStatus_IsNotStored()
    {
        var runs = 0;
        await using var app = await CachingHost.StartAsync(
            a => a.MapPost("/predict", () =>
            {
                Interlocked.Increment(ref runs);
                return Results.Problem(statusCode: 400, title: "bad");
            }).WithPredictionCache(),
            cache: options => options.Anonymous = AnonymousCaching.Shared);

        await SendAsync(app, "/predict", Body);
        var second = await SendAsync(app, "/predict", Body);

        Assert.Equal(HttpStatusCode.BadRequest, second.Response.StatusCode);
        Assert.Equal("MISS", CachingHost.XCache(second.Response));
        Assert.Equal(2, runs);
    }

    [Fact]
    public async Task Predict_EndpointWithoutMetadata_IsUntouched()
    {
        var model = new Model();
        await using var app = await StartAsync(model);

        var first = await SendAsync(app, "/plain", Body);
        await SendAsync(app, "/plain", Body);

        Assert.False(first.Response.Headers.Contains("X-Cache"));
        Assert.Equal(2, model.Runs);
    }

    [Fact]
    public async Task Predict_ClientNoStore_Bypasses()
    {
        var model = new Model();
        await using var app = await StartAsync(model);

        var first = await SendAsync(app, "/predict", Body, ("Cache-Control", "no-store"));
        var second = await SendAsync(app, "/predict", Body);

        Assert.Equal("BYPASS", CachingHost.XCache(first.Response));
        Assert.Equal("MISS", CachingHost.XCache(second.Response));
    }

    [Fact]
    public async Task Predict_ClientNoCache_RunsAndStoresTheFreshAnswer()
    {
        var model = new Model();
        await using var app = await StartAsync(model);

        var first = await SendAsync(app, "/predict", Body);
        var revalidated = await SendAsync(app, "/predict", Body, ("Cache-Control", "no-cache"));
        var after = await SendAsync(app, "/predict", Body);

        Assert.Equal("MISS", CachingHost.XCache(revalidated.Response));
        Assert.NotEqual(first.Invocation, revalidated.Invocation);
        Assert.Equal("HIT", CachingHost.XCache(after.Response));
        Assert.Equal(revalidated.Invocation, after.Invocation);
    }

    [Fact]
    public async Task Predict_PolicyIgnoringClientDirectives_StillHits()
    {
        var model = new Model();
        await using var app = await StartAsync(
            model,
            options => options.Policies["gpu"] = new PredictionCachePolicy { IgnoreClientNoCache = true, IgnoreClientNoStore = true },
            policy: "gpu");

        var first = await SendAsync(app, "/predict", Body);
        var noCache = await SendAsync(app, "/predict", Body, ("Cache-Control", "no-cache"));
        var noStore = await SendAsync(app, "/predict", Body, ("Cache-Control", "no-store"));

        Assert.Equal("HIT", CachingHost.XCache(noCache.Response));
        Assert.Equal("HIT", CachingHost.XCache(noStore.Response));
        Assert.Equal(first.Invocation, noStore.Invocation);
        Assert.Equal(1, model.Runs);
    }

    [Fact]
    public async Task Predict_WithSendAge_HitsCarryTheirAgeUntilDurationThenMiss()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var model = new Model();
        await using var app = await StartAsync(model, options =>
        {
            options.Duration = TimeSpan.FromMinutes(1);
            options.SendAge = true;
        }, time);

        var miss = await SendAsync(app, "/predict", Body);
        var fresh = await SendAsync(app, "/predict", Body);
        time.Advance(TimeSpan.FromSeconds(42));
        var aged = await SendAsync(app, "/predict", Body);
        time.Advance(TimeSpan.FromSeconds(18));
        var expired = await SendAsync(app, "/predict", Body);

        Assert.Null(miss.Response.Headers.Age);
        Assert.Equal("HIT", CachingHost.XCache(fresh.Response));
        Assert.Equal(TimeSpan.Zero, fresh.Response.Headers.Age);
        Assert.Equal("HIT", CachingHost.XCache(aged.Response));
        Assert.Equal(TimeSpan.FromSeconds(42), aged.Response.Headers.Age);
        Assert.Equal("MISS", CachingHost.XCache(expired.Response));
        Assert.Null(expired.Response.Headers.Age);
    }

    [Fact]
    public async Task Predict_ByDefault_HitsCarryNoAgeHoweverOldTheEntry()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var model = new Model();
        await using var app = await StartAsync(model, options => options.Duration = TimeSpan.FromHours(3), time);

        await SendAsync(app, "/predict", Body);
        var hits = new List<HttpResponseMessage>();
        foreach (var step in new[] { TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(59), TimeSpan.FromHours(2) })
        {
            time.Advance(step);
            hits.Add((await SendAsync(app, "/predict", Body)).Response);
        }

        Assert.All(hits, hit =>
        {
            Assert.Equal("HIT", CachingHost.XCache(hit));
            Assert.False(hit.Headers.Contains("Age"));
        });
        Assert.Equal(1, model.Runs);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Predict_EndpointWritesAge_ItIsNeverReplayed(bool sendAge)
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var model = new Model { Before = context => { context.Response.Headers.Age = "86400"; return Task.CompletedTask; } };
        await using var app = await StartAsync(model, options => options.SendAge = sendAge, time);

        var miss = await SendAsync(app, "/predict", Body);
        time.Advance(TimeSpan.FromSeconds(7));
        var hit = await SendAsync(app, "/predict", Body);

        Assert.Equal("MISS", CachingHost.XCache(miss.Response));
        Assert.Equal("HIT", CachingHost.XCache(hit.Response));
        Assert.Equal(["86400"], miss.Response.Headers.GetValues("Age"));
        Assert.Equal(sendAge ? ["7"] : [], hit.Response.Headers.TryGetValues("Age", out var values) ? values : []);
    }

    [Theory]
    [InlineData(false, null, false)]
    [InlineData(false, true, true)]
    [InlineData(true, null, true)]
    [InlineData(true, false, false)]
    public async Task Predict_PolicySendAge_OverridesTheOptions(bool optionsSendAge, bool? policySendAge, bool expectAge)
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var model = new Model();
        await using var app = await StartAsync(
            model,
            options =>
            {
                options.SendAge = optionsSendAge;
                options.Policies["p"] = new PredictionCachePolicy { SendAge = policySendAge };
            },
            time,
            policy: "p");

        await SendAsync(app, "/predict", Body);
        time.Advance(TimeSpan.FromSeconds(5));
        var hit = await SendAsync(app, "/predict", Body);

        Assert.Equal("HIT", CachingHost.XCache(hit.Response));
        Assert.Equal(expectAge ? TimeSpan.FromSeconds(5) : null, hit.Response.Headers.Age);
    }

    [Theory]
    [InlineData("AiEdge:Caching:SendAge", null)]
    [InlineData("AiEdge:Caching:Policies:p:SendAge", "p")]
    public async Task Predict_SendAgeFromConfiguration_HitsCarryAge(string key, string? policy)
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var model = new Model();
        await using var app = await CachingHost.StartAsync(
            a => model.Map(a, policy),
            cache: options =>
            {
                options.Anonymous = AnonymousCaching.Shared;
                options.Policies.TryAdd("p", new PredictionCachePolicy());
            },
            time: time,
            configuration: new Dictionary<string, string?> { [key] = "true" });

        await SendAsync(app, "/predict", Body);
        time.Advance(TimeSpan.FromSeconds(3));
        var hit = await SendAsync(app, "/predict", Body);

        Assert.Equal("HIT", CachingHost.XCache(hit.Response));
        Assert.Equal(TimeSpan.FromSeconds(3), hit.Response.Headers.Age);
    }

    [Theory]
    [InlineData("throw", false)]
    [InlineData("503", false)]
    [InlineData("500-empty", false)]
    [InlineData("throw", true)]
    [InlineData("503", true)]
    [InlineData("500-empty", true)]
    public async Task Predict_EndpointFailsWithinGrace_ServesStale(string failure, bool sendAge)
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var mode = "ok";
        await using var app = await CachingHost.StartAsync(
            a => a.MapPost("/predict", IResult () => Volatile.Read(ref mode) switch
            {
                "ok" => Results.Json(new { invocation = Guid.NewGuid().ToString("n") }),
                "throw" => throw new InvalidOperationException("model crashed"),
                "503" => Results.Problem(statusCode: 503, title: "down"),
                _ => Results.StatusCode(500),
            }).WithPredictionCache(),
            cache: options =>
            {
                options.Anonymous = AnonymousCaching.Shared;
                options.Duration = TimeSpan.FromMinutes(1);
                options.StaleIfError = TimeSpan.FromMinutes(2);
                options.SendAge = sendAge;
            },
            time: time);

        var fresh = await SendAsync(app, "/predict", Body);
        Volatile.Write(ref mode, failure);
        time.Advance(TimeSpan.FromSeconds(90));
        var stale = await SendAsync(app, "/predict", Body);
        time.Advance(TimeSpan.FromMinutes(2));
        var tooOld = await SendAsync(app, "/predict", Body);

        Assert.Equal(HttpStatusCode.OK, stale.Response.StatusCode);
        Assert.Equal("STALE", CachingHost.XCache(stale.Response));
        Assert.Equal(fresh.Text, stale.Text);
        Assert.Equal(sendAge ? TimeSpan.FromSeconds(90) : null, stale.Response.Headers.Age);
        Assert.True(tooOld.Response.StatusCode >= HttpStatusCode.InternalServerError);
        Assert.NotEqual("STALE", CachingHost.XCache(tooOld.Response));
    }

    [Fact]
    public async Task Predict_ExpiredEndpointSucceeds_ReplacesTheEntry()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var model = new Model();
        await using var app = await StartAsync(model, options => options.Duration = TimeSpan.FromMinutes(1), time);

        var first = await SendAsync(app, "/predict", Body);
        time.Advance(TimeSpan.FromSeconds(61));
        var renewed = await SendAsync(app, "/predict", Body);
        var hit = await SendAsync(app, "/predict", Body);

        Assert.Equal("MISS", CachingHost.XCache(renewed.Response));
        Assert.NotEqual(first.Invocation, renewed.Invocation);
        Assert.Equal(renewed.Invocation, hit.Invocation);
    }

    [Fact]
    public async Task Predict_ConcurrentIdenticalRequests_RunTheModelOnce()
    {
        const int n = 8;
        var model = new Model();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        model.Before = _ =>
        {
            entered.TrySetResult();
            return gate.Task;
        };
        await using var app = await StartAsync(model);
        using var coalesced = new CachingHost.InstrumentCounter(app.Services, "aiedge.cache.coalesced", n - 1);

        var requests = new Task<(HttpResponseMessage Response, string Invocation, string Text)>[n];
        for (var i = 0; i < n; i++)
        {
            requests[i] = Task.Run(() => SendAsync(app, "/predict", Body));
        }

        // The waiters may all be counted before the leader reaches the model: wait for both.
        await coalesced.Reached.WaitAsync(TimeSpan.FromSeconds(30));
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, model.Runs);
        gate.SetResult();
        var responses = await Task.WhenAll(requests).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, model.Runs);
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.Response.StatusCode));
        Assert.Single(responses.Select(r => r.Invocation).Distinct());
        Assert.Equal(1, responses.Count(r => CachingHost.XCache(r.Response) == "MISS"));
        Assert.Equal(n - 1, responses.Count(r => CachingHost.XCache(r.Response) == "HIT"));
    }

    [Fact]
    public async Task Predict_LeaderFails_OneWaiterTakesOver()
    {
        const int n = 5;
        var model = new Model();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        model.Before = async _ =>
        {
            await gate.Task;
            if (model.Runs == 1)
            {
                throw new InvalidOperationException("the first run fails");
            }
        };
        await using var app = await StartAsync(model);
        using var coalesced = new CachingHost.InstrumentCounter(app.Services, "aiedge.cache.coalesced", n - 1);

        var requests = new Task<(HttpResponseMessage Response, string Invocation, string Text)>[n];
        for (var i = 0; i < n; i++)
        {
            requests[i] = Task.Run(() => SendAsync(app, "/predict", Body));
        }

        await coalesced.Reached.WaitAsync(TimeSpan.FromSeconds(30));
        gate.SetResult();
        var responses = await Task.WhenAll(requests).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, model.Runs);
        Assert.Equal(1, responses.Count(r => r.Response.StatusCode == HttpStatusCode.InternalServerError));
        var succeeded = responses.Where(r => r.Response.StatusCode == HttpStatusCode.OK).ToArray();
        Assert.Equal(n - 1, succeeded.Length);
        Assert.Single(succeeded.Select(r => r.Invocation).Distinct());
    }

    [Fact]
    public async Task Predict_LeaderFails_TheNextHolderAnswersBeforeAnotherWaiterTakesTheLock_ModelRunsOnceMore()
    {
        // Both waiters wake when the failed leader releases and find nothing. One takes the lock and runs; the other's
        // next acquire waits until that run has stored its answer and released: the interleaving a busy machine
        // produces at random.
        var model = new Model();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var store = new SecondHolderFirstStore(new InMemoryPredictionCacheStore(TimeProvider.System));
        model.Before = async _ =>
        {
            await gate.Task;
            if (model.Runs == 1)
            {
                throw new InvalidOperationException("the first run fails");
            }

            await store.HoldingBack.WaitAsync(TimeSpan.FromSeconds(30));
        };
        await using var app = await StartAsync(
            model,
            options => options.UseDistributedCache = false,
            services: s => s.AddSingleton<IPredictionCacheStore>(store));
        using var coalesced = new CachingHost.InstrumentCounter(app.Services, "aiedge.cache.coalesced", 2);

        var requests = new Task<(HttpResponseMessage Response, string Invocation, string Text)>[3];
        for (var i = 0; i < requests.Length; i++)
        {
            requests[i] = Task.Run(() => SendAsync(app, "/predict", Body));
        }

        await coalesced.Reached.WaitAsync(TimeSpan.FromSeconds(30));
        gate.SetResult();
        var responses = await Task.WhenAll(requests).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, model.Runs);
        Assert.Equal(1, responses.Count(r => r.Response.StatusCode == HttpStatusCode.InternalServerError));
        var succeeded = responses.Where(r => r.Response.StatusCode == HttpStatusCode.OK).ToArray();
        Assert.Equal(2, succeeded.Length);
        Assert.Single(succeeded.Select(r => r.Invocation).Distinct());
        Assert.Equal(["HIT", "MISS"], succeeded.Select(r => CachingHost.XCache(r.Response)).Order());
    }

    /// <summary>
    /// An in-process store whose acquires, once two have succeeded, wait for the next release: the second holder then
    /// finishes before the last waiter's acquire goes through.
    /// </summary>
    private sealed class SecondHolderFirstStore(IPredictionCacheStore inner) : IPredictionCacheStore
    {
        private readonly Lock _lock = new();
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _holdingBack = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _acquired;

        /// <summary>Gets a task completed when an acquire is held back.</summary>
        public Task HoldingBack => _holdingBack.Task;

        public async ValueTask<bool> TryAcquireAsync(PredictionCacheKey key, Guid owner, TimeSpan lease, CancellationToken cancellationToken)
        {
            bool holdBack;
            lock (_lock)
            {
                holdBack = _acquired >= 2;
                if (!holdBack && inner.TryAcquireAsync(key, owner, lease, cancellationToken).Result)
                {
                    _acquired++;
                    return true;
                }
            }

            if (!holdBack)
            {
                return false;
            }

            _holdingBack.TrySetResult();
            await _released.Task.WaitAsync(cancellationToken);
            return await inner.TryAcquireAsync(key, owner, lease, cancellationToken);
        }

        public async ValueTask ReleaseAsync(PredictionCacheKey key, Guid owner, CancellationToken cancellationToken)
        {
            await inner.ReleaseAsync(key, owner, cancellationToken);
            lock (_lock)
            {
                if (_acquired >= 2)
                {
                    _released.TrySetResult();
                }
            }
        }

        public ValueTask<bool> WaitAsync(PredictionCacheKey key, TimeSpan timeout, CancellationToken cancellationToken)
            => inner.WaitAsync(key, timeout, cancellationToken);

        public ValueTask<byte[]?> GetAsync(PredictionCacheKey key, CancellationToken cancellationToken) => inner.GetAsync(key, cancellationToken);

        public ValueTask SetAsync(PredictionCacheKey key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, CancellationToken cancellationToken)
            => inner.SetAsync(key, value, timeToLive, cancellationToken);

        public ValueTask<PredictionCacheLookup> GetOrAcquireAsync(PredictionCacheKey key, Guid owner, TimeSpan lease, CancellationToken cancellationToken)
            => inner.GetOrAcquireAsync(key, owner, lease, cancellationToken);

        public ValueTask SetAndReleaseAsync(PredictionCacheKey key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, Guid owner, CancellationToken cancellationToken)
            => inner.SetAndReleaseAsync(key, value, timeToLive, owner, cancellationToken);
    }

    [Fact]
    public async Task Predict_WaiterCancelled_LeavesPromptlyAndLeaderStillStores()
    {
        var model = new Model();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        model.Before = _ =>
        {
            started.TrySetResult();
            return gate.Task;
        };
        await using var app = await StartAsync(model);
        using var coalesced = new CachingHost.InstrumentCounter(app.Services, "aiedge.cache.coalesced", 1);
        using var disconnects = new CachingHost.InstrumentCounter(app.Services, "aiedge.client.disconnects", 1);
        using var cancel = new CancellationTokenSource();
        var id = Guid.NewGuid().ToString("n");
        CachingHost.Cancellations[id] = cancel.Token;

        var leader = Task.Run(() => SendAsync(app, "/predict", Body));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var waiter = Task.Run(() => SendAsync(app, "/predict", Body, (CachingHost.CancelHeader, id)));
        await coalesced.Reached.WaitAsync(TimeSpan.FromSeconds(30));
        cancel.Cancel();

        await disconnects.Reached.WaitAsync(TimeSpan.FromSeconds(30));
        var cancelled = await waiter.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(leader.IsCompleted);
        Assert.Equal("", cancelled.Invocation);
        gate.SetResult();
        var first = await leader.WaitAsync(TimeSpan.FromSeconds(30));
        var after = await SendAsync(app, "/predict", Body);

        Assert.Equal(1, model.Runs);
        Assert.Equal("HIT", CachingHost.XCache(after.Response));
        Assert.Equal(first.Invocation, after.Invocation);
    }

    [Fact]
    public async Task Predict_MemoryIsBoundedInBytes_OldestEvicted()
    {
        var model = new Model();
        await using var app = await StartAsync(model, options => options.SizeLimit = 4096);
        var cache = app.Services.GetRequiredService<MemoryResponseCache>();

        for (var i = 0; i < 40; i++)
        {
            await SendAsync(app, "/predict", "{\"input\":\"" + i + new string('x', 100) + "\"}");
            Assert.InRange(cache.Size, 1, 4096);
        }

        var oldest = await SendAsync(app, "/predict", "{\"input\":\"0" + new string('x', 100) + "\"}");
        var newest = await SendAsync(app, "/predict", "{\"input\":\"39" + new string('x', 100) + "\"}");

        Assert.InRange(cache.Count, 2, 39);
        Assert.Equal("MISS", CachingHost.XCache(oldest.Response));
        Assert.Equal("HIT", CachingHost.XCache(newest.Response));
    }

    [Fact]
    public async Task Predict_ManyDistinctConcurrentMisses_LeaveNoCoalescingLockBehind()
    {
        var model = new Model();
        await using var app = await StartAsync(model, options => options.SizeLimit = 16 * 1024);
        var cache = app.Services.GetRequiredService<MemoryResponseCache>();
        var locks = Assert.IsType<InMemoryPredictionCacheStore>(app.Services.GetRequiredService<SharedCacheLevel>().Store);

        var next = -1;
        var senders = new Task[8];
        for (var s = 0; s < senders.Length; s++)
        {
            senders[s] = Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < 2000)
                {
                    var (response, _, _) = await SendAsync(app, "/predict", "{\"input\":\"" + i + "\"}");
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                }
            });
        }

        await Task.WhenAll(senders);

        Assert.Equal(0, locks.HeldCount);
        Assert.InRange(cache.Size, 1, 16 * 1024);
        Assert.Equal(2000, model.Runs);
    }

    [Fact]
    public async Task Predict_ResponseLargerThanLimit_IsServedButNotStored()
    {
        var model = new Model();
        await using var app = await StartAsync(model, options => options.MaxResponseBodySize = 10);

        var first = await SendAsync(app, "/predict", Body);
        var second = await SendAsync(app, "/predict", Body);

        Assert.StartsWith("{", first.Text);
        Assert.Equal("MISS", CachingHost.XCache(second.Response));
    }

    [Fact]
    public async Task Predict_DistributedCache_SharesEntriesBetweenHosts()
    {
        var shared = new MemoryDistributedCache(Options.Create(new MemoryDistributedCacheOptions()));
        var modelA = new Model();
        var modelB = new Model();
        await using var a = await StartAsync(modelA, services: s => s.AddSingleton<IDistributedCache>(shared));
        await using var b = await StartAsync(modelB, services: s => s.AddSingleton<IDistributedCache>(shared));

        var first = await SendAsync(a, "/predict", Body);
        var fromL2 = await SendAsync(b, "/predict", Body);

        Assert.Equal("HIT", CachingHost.XCache(fromL2.Response));
        Assert.Equal(first.Invocation, fromL2.Invocation);
        Assert.Equal(0, modelB.Runs);
    }
}
