using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AiEdge.Middleware.Resilience;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Health.Tests;

public sealed class ReadinessBreakerIntegrationTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Readyz_ReflectsPoolAndBreakerStates()
    {
        await using var a = await FakeModelBackend.StartAsync();
        await using var b = await FakeModelBackend.StartAsync();
        var clock = new FakeTimeProvider(TestClock.Start);
        var settings = new Dictionary<string, string?>
        {
            ["AiEdge:Health:CacheDuration"] = "00:00:00",
            ["AiEdge:Resilience:Breakers:model:MinimumThroughput"] = "2",
            ["AiEdge:Resilience:Breakers:model:BreakDuration"] = "00:00:30",
            ["AiEdge:Resilience:Breakers:local:MinimumThroughput"] = "2",
            ["AiEdge:Resilience:Backends:model:Replicas:0:Url"] = a.BaseAddress + "v1",
            ["AiEdge:Resilience:Backends:model:Replicas:0:Name"] = "a",
            ["AiEdge:Resilience:Backends:model:Replicas:1:Url"] = b.BaseAddress + "v1",
            ["AiEdge:Resilience:Backends:model:Replicas:1:Name"] = "b",
        };
        await using var app = await TestApp.StartAsync(
            builder =>
            {
                builder.Services.AddSingleton<TimeProvider>(clock);
                builder.Services.AddAiEdgeCore(edge => edge.AddHealth().AddModelBackendClient("model"));
            },
            web =>
            {
                web.UseAiEdge();
                web.MapPost("/chat", static (HttpContext context, ModelBackendClient backend)
                    => backend.ForwardAsync(context, HttpMethod.Post, "chat/completions", new StreamContent(context.Request.Body)));
                web.MapPost("/local", static () => Results.StatusCode(500)).WithCircuitBreaker("local");
            },
            settings);

        var (code, ready) = await ReadyAsync(app);
        Assert.Equal(HttpStatusCode.OK, code);
        Assert.Equal("Healthy", Entry(ready, "backend:model").GetProperty("status").GetString());
        Assert.Equal("closed", Entry(ready, "breaker:local").GetProperty("data").GetProperty("state").GetString());

        // One replica's breaker opens: the pool is Degraded, still ready.
        a.Mode = FakeBackendMode.Error;
        for (var i = 0; i < 200 && a.Calls < 2; i++)
        {
            (await ChatAsync(app)).Dispose();
        }

        (code, ready) = await ReadyAsync(app);
        Assert.Equal(HttpStatusCode.OK, code);
        Assert.Equal("Degraded", ready.GetProperty("status").GetString());
        var pool = Entry(ready, "backend:model");
        Assert.Equal("Degraded", pool.GetProperty("status").GetString());
        Assert.Equal("open", pool.GetProperty("data").GetProperty("a").GetString());
        Assert.Equal("closed", pool.GetProperty("data").GetProperty("b").GetString());

        // Every replica out: not ready.
        b.Mode = FakeBackendMode.Error;
        for (var i = 0; i < 200 && Entry((await ReadyAsync(app)).Body, "backend:model").GetProperty("data").GetProperty("b").GetString() != "open"; i++)
        {
            (await ChatAsync(app)).Dispose();
        }

        (code, ready) = await ReadyAsync(app);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, code);
        Assert.Equal("Unhealthy", ready.GetProperty("status").GetString());

        // An in-process breaker opening is reported too.
        (await app.Client.PostAsync("/local", null).WaitAsync(Wait)).Dispose();
        (await app.Client.PostAsync("/local", null).WaitAsync(Wait)).Dispose();
        (code, ready) = await ReadyAsync(app);
        Assert.Equal("open", Entry(ready, "breaker:local").GetProperty("data").GetProperty("state").GetString());
        Assert.Equal("Unhealthy", Entry(ready, "breaker:local").GetProperty("status").GetString());

        // Recovery: after the break, probes close the breakers and readiness returns.
        a.Mode = FakeBackendMode.Ok;
        b.Mode = FakeBackendMode.Ok;
        clock.Advance(TimeSpan.FromSeconds(30));
        for (var i = 0; i < 200 && Entry((await ReadyAsync(app)).Body, "backend:model").GetProperty("status").GetString() != "Healthy"; i++)
        {
            (await ChatAsync(app)).Dispose();
        }

        (code, ready) = await ReadyAsync(app);
        Assert.Equal("Healthy", Entry(ready, "backend:model").GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, code);
    }

    private static Task<HttpResponseMessage> ChatAsync(TestApp app)
        => app.Client.PostAsJsonAsync("/chat", new { model = "m", messages = new[] { new { role = "user", content = "hi" } } }).WaitAsync(Wait);

    private static async Task<(HttpStatusCode Code, JsonElement Body)> ReadyAsync(TestApp app)
    {
        using var response = await app.Client.GetAsync("/readyz").WaitAsync(Wait);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, document.RootElement.Clone());
    }

    private static JsonElement Entry(JsonElement ready, string name)
    {
        foreach (var entry in ready.GetProperty("checks").EnumerateArray())
        {
            if (entry.GetProperty("name").GetString() == name)
            {
                return entry;
            }
        }

        throw new Xunit.Sdk.XunitException("No readiness entry " + name + " in " + ready);
    }
}
