using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.RateLimiting.Tests;

public sealed class RateLimitingIntegrationTests
{
    private static Task<TestApp> StartAsync(FakeTimeProvider time, Action<RateLimitingOptions> configure, string tier = "t")
        => RateLimitHost.StartAsync(time, configure, app =>
        {
            app.MapGet("/limited", () => "ok").WithRateLimitTier(tier);
            app.MapGet("/open", () => "ok");
        });

    [Fact]
    public async Task PredictTier_ClientAtRest_Admits21ThenRejectsWithProblemAndRetryAfter()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await StartAsync(time, o => o.AddTier("predict", t =>
        {
            t.Rate = "10r/s";
            t.Burst = 20;
        }), "predict");

        var statuses = await app.SendManyAsync("/limited", 21);
        using var rejected = await app.SendAsync("/limited");

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        var problem = await ProblemAssert.IsProblemAsync(rejected, HttpStatusCode.TooManyRequests);
        Assert.Equal(RateLimitingDefaults.QuotaExceededProblemType, problem.GetProperty("type").GetString());
        Assert.Equal("predict", problem.GetProperty("violated-policies")[0].GetString());
        Assert.Equal("1", rejected.Header("Retry-After"));
        Assert.Equal("\"predict\";q=21;w=3", rejected.Header("RateLimit-Policy"));
        Assert.StartsWith("\"predict\";r=0;", rejected.Header("RateLimit"));

        // 10r/s: one request drains every 100 ms.
        time.Advance(TimeSpan.FromMilliseconds(99));
        using (var early = await app.SendAsync("/limited"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, early.StatusCode);
        }

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.TooManyRequests], await app.SendManyAsync("/limited", 2));
    }

    [Fact]
    public async Task Success_CarriesRateLimitPolicyAndRemaining()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await StartAsync(time, o => o.AddTier("predict", t =>
        {
            t.Rate = "10r/s";
            t.Burst = 20;
        }), "predict");

        using var first = await app.SendAsync("/limited");
        using var second = await app.SendAsync("/limited");
        using var open = await app.SendAsync("/open");

        Assert.Equal("\"predict\";q=21;w=3", first.Header("RateLimit-Policy"));
        Assert.Equal("\"predict\";r=20;t=1", first.Header("RateLimit"));
        Assert.Equal("\"predict\";r=19;t=1", second.Header("RateLimit"));
        Assert.False(open.Headers.Contains("RateLimit"));
        Assert.False(open.Headers.Contains("RateLimit-Policy"));
    }

    [Theory]
    [InlineData("1r/s", 0, 0, "1")]
    [InlineData("1r/s", 0, 999, "1")]
    [InlineData("1r/m", 0, 0, "63")]
    [InlineData("1r/m", 0, 2_500, "60")]
    [InlineData("1r/m", 0, 61_500, "1")]
    [InlineData("1r/m", 0, 61_499, "2")]
    [InlineData("3r/m", 2, 0, "20")]
    [InlineData("100r/d", 0, 0, "864")]
    public async Task RetryAfter_IsTheCeilingOfTheWaitUntilAdmission(string rate, int burst, int elapsedMs, string expected)
    {
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await StartAsync(time, o => o.AddTier("t", t =>
        {
            t.Rate = rate;
            t.Burst = burst;
        }));
        await app.SendManyAsync("/limited", burst + 1);
        time.Advance(TimeSpan.FromMilliseconds(elapsedMs));

        using var rejected = await app.SendAsync("/limited");

        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
        Assert.Equal(expected, rejected.Header("Retry-After"));
        time.Advance(TimeSpan.FromSeconds(int.Parse(expected)));
        using var retried = await app.SendAsync("/limited");
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
    }

    [Fact]
    public async Task QueuedMode_ExcessRequestWaitsForItsSlot_OnTheClock()
    {
        var time = new TimerCountingTimeProvider();
        await using var app = await StartAsync(time, o => o.AddTier("t", t =>
        {
            t.Rate = "1r/s";
            t.Burst = 5;
            t.Delay = 2;
        }));

        // delay=2: the first three pass at once, the fourth waits (3000 - 2000) ms.
        Assert.All(await app.SendManyAsync("/limited", 3), s => Assert.Equal(HttpStatusCode.OK, s));
        var baseline = time.LiveTimers;
        var queued = app.SendAsync("/limited");
        Assert.True(SpinWait.SpinUntil(() => time.LiveTimers > baseline, TimeSpan.FromSeconds(10)));
        Assert.False(queued.IsCompleted);

        time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(queued.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        using var response = await queued;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task QueuedMode_ClientGoesAway_EndpointNeverRunsAndNoTimerRemains()
    {
        var time = new TimerCountingTimeProvider();
        var calls = 0;
        await using var app = await RateLimitHost.StartAsync(
            time,
            o => o.AddTier("t", t =>
            {
                t.Rate = "1r/s";
                t.Burst = 5;
                t.NoDelay = false;
            }),
            a => a.MapGet("/limited", () => Interlocked.Increment(ref calls)).WithRateLimitTier("t"),
            kestrel: true);
        using (await app.SendAsync("/limited"))
        {
        }

        // The store's expiry scan holds one timer; the queued request adds one.
        var baseline = time.LiveTimers;
        using var cancel = new CancellationTokenSource();
        var queued = app.SendAsync("/limited", cancellationToken: cancel.Token);
        Assert.True(SpinWait.SpinUntil(() => time.LiveTimers > baseline, TimeSpan.FromSeconds(10)));
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);

        Assert.True(SpinWait.SpinUntil(() => time.LiveTimers == baseline, TimeSpan.FromSeconds(10)));
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, Volatile.Read(ref calls));
    }

    [Fact]
    public async Task DryRun_NeverRejects_ButReportsWhatItWouldHaveDone()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var decisions = new List<string>();
        await using var app = await StartAsync(time, o => o.AddTier("t", t =>
        {
            t.Rate = "1r/m";
            t.Burst = 1;
            t.DryRun = true;
        }));

        // Only this app's meter: other tests run in parallel and report through meters of their own.
        var meters = app.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "aiedge.ratelimit.requests" && ReferenceEquals(instrument.Meter.Scope, meters))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == AiEdgeDiagnostics.Tags.RateLimitDecision)
                {
                    lock (decisions)
                    {
                        decisions.Add((string)tag.Value!);
                    }
                }
            }
        });
        listener.Start();

        var statuses = await app.SendManyAsync("/limited", 5);

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        lock (decisions)
        {
            Assert.Equal(["admitted", "admitted", "dry_run", "dry_run", "dry_run"], decisions);
        }
    }

    [Fact]
    public async Task SeveralTiers_EveryOneMustAdmit_AndEachIsAdvertised()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await RateLimitHost.StartAsync(
            time,
            o => o.AddTier("perSecond", t =>
            {
                t.Rate = "10r/s";
                t.Burst = 2;
            }).AddTier("perDay", t =>
            {
                t.Rate = "5r/d";
                t.Burst = 4;
            }),
            a => a.MapGet("/limited", () => "ok").WithRateLimitTier("perSecond").WithRateLimitTier("perDay"));

        var burst = await app.SendManyAsync("/limited", 4);
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], burst);

        time.Advance(TimeSpan.FromSeconds(1));
        using var fourth = await app.SendAsync("/limited");
        using var fifth = await app.SendAsync("/limited");
        time.Advance(TimeSpan.FromSeconds(1));
        using var sixth = await app.SendAsync("/limited");

        Assert.Equal(HttpStatusCode.OK, fourth.StatusCode);
        Assert.Equal(HttpStatusCode.OK, fifth.StatusCode);
        var problem = await ProblemAssert.IsProblemAsync(sixth, HttpStatusCode.TooManyRequests);
        Assert.Equal(["perDay"], problem.GetProperty("violated-policies").EnumerateArray().Select(e => e.GetString()));

        // 5 a day drain one every 17,280 s; the last admitted request was 1 s ago.
        Assert.Equal("17279", sixth.Header("Retry-After"));
        Assert.Equal("\"perDay\";q=5;w=86400, \"perSecond\";q=3;w=1", fifth.Header("RateLimit-Policy"));
        Assert.StartsWith("\"perDay\";r=0;", fifth.Header("RateLimit"));
    }

    [Fact]
    public async Task Partitions_ByClientIp_EachAddressHasItsOwnBucket()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await StartAsync(time, o => o.AddTier("t", t => t.Rate = "1r/m"));

        var a = await app.SendManyAsync("/limited", 2, ip: "198.51.100.1");
        var b = await app.SendManyAsync("/limited", 2, ip: "198.51.100.2");
        var v6 = await app.SendManyAsync("/limited", 1, ip: "2001:db8::1");
        var sameV6Prefix = await app.SendManyAsync("/limited", 1, ip: "2001:db8::2");

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.TooManyRequests], a);
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.TooManyRequests], b);
        Assert.Equal([HttpStatusCode.OK], v6);
        Assert.Equal([HttpStatusCode.TooManyRequests], sameV6Prefix);
    }

    [Fact]
    public async Task Partitions_ByCaller_SeparatesUsersBehindOneAddress_AndAnonymousFallsBackToIp()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await StartAsync(time, o => o.AddTier("t", t =>
        {
            t.Rate = "1r/m";
            t.Partition = RateLimitPartitionKind.Caller;
        }));

        var alice = await app.SendManyAsync("/limited", 2, ip: "198.51.100.1", user: "alice");
        var bob = await app.SendManyAsync("/limited", 2, ip: "198.51.100.1", user: "bob");
        var anonymous = await app.SendManyAsync("/limited", 2, ip: "198.51.100.1");

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.TooManyRequests], alice);
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.TooManyRequests], bob);
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.TooManyRequests], anonymous);
    }

    [Fact]
    public async Task Partitions_ByClaimAndByFunction()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await RateLimitHost.StartAsync(
            time,
            o => o.AddTier("claim", t =>
            {
                t.Rate = "1r/m";
                t.Partition = RateLimitPartitionKind.Claim;
                t.PartitionClaim = "tenant";
            }).AddTier("custom", t =>
            {
                t.Rate = "1r/m";
                t.PartitionResolver = static c => c.Request.Query["org"].ToString() is { Length: > 0 } org ? org : null;
            }),
            a =>
            {
                a.MapGet("/claim", () => "ok").WithRateLimitTier("claim");
                a.MapGet("/custom", () => "ok").WithRateLimitTier("custom");
            });

        async Task<HttpStatusCode> Tenant(string user, string tenant)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/claim");
            request.Headers.Add("X-Test-User", user);
            request.Headers.Add("X-Test-Tenant", tenant);
            using var response = await app.Client.SendAsync(request).WaitAsync(TimeSpan.FromSeconds(30));
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await Tenant("alice", "acme"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await Tenant("bob", "acme"));
        Assert.Equal(HttpStatusCode.OK, await Tenant("carol", "globex"));
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.TooManyRequests], await app.SendManyAsync("/custom?org=a", 2));
        Assert.Equal([HttpStatusCode.OK], await app.SendManyAsync("/custom?org=b", 1));
    }

    [Fact]
    public async Task Partitions_NeverShareABucketAcrossSourcesOrIssuers()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await RateLimitHost.StartAsync(
            time,
            o => o.AddTier("caller", static t =>
            {
                t.Rate = "1r/m";
                t.Partition = RateLimitPartitionKind.Caller;
            }).AddTier("key", static t =>
            {
                t.Rate = "1r/m";
                t.Partition = RateLimitPartitionKind.ApiKey;
            }).AddTier("claim", static t =>
            {
                t.Rate = "1r/m";
                t.Partition = RateLimitPartitionKind.Claim;
                t.PartitionClaim = "tenant";
            }),
            a =>
            {
                a.MapGet("/caller", () => "ok").WithRateLimitTier("caller");
                a.MapGet("/key", () => "ok").WithRateLimitTier("key");
                a.MapGet("/claim", () => "ok").WithRateLimitTier("claim");
            });

        async Task<HttpStatusCode> Send(string path, string ip, string scheme, string issuer, string user = "pro-app", string? tenant = null, string? apiKey = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Add("X-Test-Ip", ip);
            request.Headers.Add("X-Test-User", user);
            request.Headers.Add("X-Test-Scheme", scheme);
            request.Headers.Add("X-Test-Issuer", issuer);
            if (tenant is not null)
            {
                request.Headers.Add("X-Test-Tenant", tenant);
            }

            if (apiKey is not null)
            {
                request.Headers.Add("X-Test-ApiKey", apiKey);
            }

            using var response = await app.Client.SendAsync(request).WaitAsync(TimeSpan.FromSeconds(30));
            return response.StatusCode;
        }

        const string Key = "AiEdge.ApiKey";
        const string Jwt = "AiEdge.JwtBearer";
        HttpStatusCode[] caller =
        [
            await Send("/caller", "198.51.100.1", Key, Key, apiKey: "pro-app"),
            await Send("/caller", "198.51.100.1", Key, Key, apiKey: "pro-app"),
            await Send("/caller", "198.51.100.1", "Cookies", Key, apiKey: "pro-app"),
            await Send("/caller", "198.51.100.1", Jwt, "https://a.example", apiKey: "pro-app"),
            await Send("/caller", "198.51.100.1", Jwt, "https://b.example", apiKey: "pro-app"),
        ];
        HttpStatusCode[] key =
        [
            await Send("/key", "198.51.100.2", Key, Key, apiKey: "pro-app"),
            await Send("/key", "198.51.100.2", Key, Key, apiKey: "pro-app"),
            await Send("/key", "198.51.100.3", Jwt, "https://a.example", apiKey: "pro-app"),
            await Send("/key", "198.51.100.4", Key, "https://a.example", apiKey: "pro-app"),
        ];
        HttpStatusCode[] claim =
        [
            await Send("/claim", "198.51.100.5", Jwt, "https://a.example", user: "alice", tenant: "acme"),
            await Send("/claim", "198.51.100.5", Jwt, "https://a.example", user: "bob", tenant: "acme"),
            await Send("/claim", "198.51.100.5", Jwt, "https://b.example", user: "carol", tenant: "acme"),
        ];

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK], caller);
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.OK, HttpStatusCode.OK], key);
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.OK], claim);
    }

    [Fact]
    public async Task Plans_CallerPlanOverridesTheTier()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await RateLimitHost.StartAsync(
            time,
            null,
            a => a.MapGet("/limited", () => "ok").WithRateLimitTier("predict"),
            new Dictionary<string, string?>
            {
                ["AiEdge:RateLimiting:Tiers:predict:Rate"] = "1r/m",
                ["AiEdge:RateLimiting:Tiers:predict:Partition"] = "Caller",
                ["AiEdge:RateLimiting:Tiers:predict:Plans:pro:Burst"] = "4",
                ["AiEdge:RateLimiting:Tiers:predict:Plans:enterprise:Rate"] = "10r/s",
                ["AiEdge:RateLimiting:Tiers:predict:Plans:enterprise:Burst"] = "9",
            });

        var free = await app.SendManyAsync("/limited", 6, user: "f");
        var pro = await app.SendManyAsync("/limited", 6, user: "p", plan: "pro");
        var enterprise = await app.SendManyAsync("/limited", 11, user: "e", plan: "Enterprise");
        using var proHeaders = await app.SendAsync("/limited", user: "p2", plan: "pro");

        Assert.Equal(1, free.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(5, pro.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(10, enterprise.Count(s => s == HttpStatusCode.OK));
        Assert.Equal("\"predict\";q=5;w=300", proHeaders.Header("RateLimit-Policy"));
    }

    [Fact]
    public async Task Configuration_TiersFromAppSettingsKeys_AreHonoured()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await RateLimitHost.StartAsync(
            time,
            null,
            a => a.MapGet("/limited", () => "ok").WithRateLimitTier("train"),
            new Dictionary<string, string?> { ["AiEdge:RateLimiting:Tiers:train:Rate"] = "1r/m", ["AiEdge:RateLimiting:RejectionStatusCode"] = "503" });

        var statuses = await app.SendManyAsync("/limited", 2);

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.ServiceUnavailable], statuses);
    }

    [Fact]
    public async Task UnknownTier_FailsAtStartup_NamingIt()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => RateLimitHost.StartAsync(
            new FakeTimeProvider(TestClock.Start),
            o => o.AddTier("predict", t => t.Rate = "10r/s"),
            a => a.MapGet("/x", () => "ok").WithRateLimitTier("predcit")));

        Assert.Contains("'predcit'", error.Message);
        Assert.Contains("AiEdge:RateLimiting:Tiers:predcit", error.Message);
    }

    [Theory]
    [InlineData("Rate", "10 per second", "AiEdge:RateLimiting:Tiers:predict:Rate must look like \"10r/s\"")]
    [InlineData("Rate", "0r/s", "AiEdge:RateLimiting:Tiers:predict:Rate must look like \"10r/s\"")]
    [InlineData("Burst", "-1", "AiEdge:RateLimiting:Tiers:predict:Burst must be from 0")]
    [InlineData("TokenBudget:Window", "forever", "AiEdge:RateLimiting:Tiers:predict:TokenBudget:Window must be whole seconds written as a duration")]
    [InlineData("Partition", "Claim", "AiEdge:RateLimiting:Tiers:predict:PartitionClaim is required")]
    public async Task InvalidConfiguration_FailsAtStartup_NamingTheKey(string key, string value, string message)
    {
        var configuration = new Dictionary<string, string?>
        {
            ["AiEdge:RateLimiting:Tiers:predict:Rate"] = "10r/s",
            ["AiEdge:RateLimiting:Tiers:predict:TokenBudget:Tokens"] = "100",
            ["AiEdge:RateLimiting:Tiers:predict:" + key] = value,
        };

        await StartupAssert.FailsAsync(
            () => RateLimitHost.StartAsync(new FakeTimeProvider(TestClock.Start), null, a => a.MapGet("/x", () => "ok").WithRateLimitTier("predict"), configuration),
            message);
    }

    [Fact]
    public async Task TierName_NotSendableAsPolicyName_FailsAtStartup()
    {
        await StartupAssert.FailsAsync(
            () => RateLimitHost.StartAsync(new FakeTimeProvider(TestClock.Start), o => o.AddTier("pré\"dict", t => t.Rate = "10r/s"), a => a.MapGet("/x", () => "ok")),
            "AiEdge:RateLimiting:Tiers:pré\"dict must be named with printable ASCII");
    }

    [Fact]
    public async Task DisableRateLimitTiers_ExemptsAnEndpointOfALimitedGroup()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await RateLimitHost.StartAsync(
            time,
            o => o.AddTier("t", t => t.Rate = "1r/m"),
            a =>
            {
                var group = a.MapGroup("/api").WithRateLimitTier("t");
                group.MapGet("/limited", () => "ok");
                group.MapGet("/health", () => "ok").DisableRateLimitTiers();
            });

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.TooManyRequests], await app.SendManyAsync("/api/limited", 2));
        Assert.All(await app.SendManyAsync("/api/health", 3), s => Assert.Equal(HttpStatusCode.OK, s));
    }

    [Fact]
    public async Task ThousandConcurrentRequests_AdmitExactlyTheLimit()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        await using var app = await StartAsync(time, o => o.AddTier("t", t =>
        {
            t.Rate = "1r/m";
            t.Burst = 99;
        }));

        var responses = await Task.WhenAll(Enumerable.Range(0, 1000).Select(_ => Task.Run(() => app.SendAsync("/limited"))));

        Assert.Equal(100, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(900, responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests));
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }
}
