using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using static AiEdge.Middleware.Authentication.Tests.AuthTestHost;

namespace AiEdge.Middleware.Authentication.Tests;

public sealed class AuthenticationMetricsIntegrationTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Refusals_AreCountedByConcernAndBoundedReason()
    {
        await using var app = await StartAsync();
        var factory = app.Services.GetRequiredService<IMeterFactory>();
        var counts = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "aiedge.rejections" && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? concern = null, reason = null;
            foreach (var tag in tags)
            {
                if (tag.Key == AiEdgeDiagnostics.Tags.Concern) concern = tag.Value as string;
                if (tag.Key == AiEdgeDiagnostics.Tags.Reason) reason = tag.Value as string;
            }

            counts.AddOrUpdate($"{concern}/{reason}", value, (_, total) => total + value);
        });
        listener.Start();

        (await app.Client.GetAsync("/predict").WaitAsync(Timeout)).Dispose();
        (await app.Client.SendAsync(Get("/predict", apiKey: "sk_wrong_key_000")).WaitAsync(Timeout)).Dispose();
        (await app.Client.SendAsync(Get("/predict", apiKey: TestKeys.FreeKey)).WaitAsync(Timeout)).Dispose();
        (await app.Client.SendAsync(Get("/predict", bearer: TestKeys.Token(expires: TestKeys.Now.AddMinutes(-10), notBefore: TestKeys.Now.AddHours(-1)))).WaitAsync(Timeout)).Dispose();
        (await app.Client.SendAsync(Get("/predict", bearer: "x y")).WaitAsync(Timeout)).Dispose();
        (await app.Client.SendAsync(Get("/predict", apiKey: TestKeys.ProKey)).WaitAsync(Timeout)).Dispose();

        Assert.Equal(1, counts.GetValueOrDefault("authentication/missing_credentials"));
        Assert.Equal(1, counts.GetValueOrDefault("authentication/invalid_api_key"));
        Assert.Equal(1, counts.GetValueOrDefault("authentication/insufficient_scope"));
        Assert.Equal(1, counts.GetValueOrDefault("authentication/token_expired"));
        Assert.Equal(1, counts.GetValueOrDefault("authentication/malformed_authorization"));
        Assert.Equal(5, counts.Values.Sum());
    }

    [Fact]
    public async Task AspNetCoreAuthorize_UsesTheAiEdgeSchemesAndAnswers()
    {
        await using var app = await TestApp.StartEdgeAsync(
            static edge => edge.AddEdgeAuthentication(),
            app =>
            {
                app.UseAuthorization();
                app.MapGet("/authorized", [Authorize] (HttpContext context) => context.GetCallerId());
                app.MapGet("/policy", (HttpContext context) => context.GetCallerId()).RequireAuthorization(static policy => policy.RequireClaim(AiEdgeClaimTypes.Scope, "admin"));
            },
            new TestAppOptions
            {
                Configuration = TestKeys.Configuration(),
                Time = new FakeTimeProvider(TestKeys.Now),
                Services = static builder => builder.Services.AddAuthorization(),
            });

        using var anonymous = await app.Client.GetAsync("/authorized").WaitAsync(Timeout);
        using var authenticated = await app.Client.SendAsync(Get("/authorized", apiKey: TestKeys.FreeKey)).WaitAsync(Timeout);
        using var forbidden = await app.Client.SendAsync(Get("/policy", apiKey: TestKeys.FreeKey)).WaitAsync(Timeout);
        using var allowed = await app.Client.SendAsync(Get("/policy", apiKey: TestKeys.AdminKey)).WaitAsync(Timeout);

        await ProblemAssert.IsProblemAsync(anonymous, HttpStatusCode.Unauthorized);
        Assert.Equal("Bearer", Challenge(anonymous));
        Assert.Equal("key:free-app", await authenticated.Content.ReadAsStringAsync());
        await ProblemAssert.IsProblemAsync(forbidden, HttpStatusCode.Forbidden);
        Assert.Equal("key:admin", await allowed.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AddEdgeAuthentication_CalledTwice_RegistersOnceAndAppliesBothConfigurations()
    {
        await using var app = await TestApp.StartEdgeAsync(
            static edge => edge
                .AddEdgeAuthentication(static o => o.ApiKeys.Add("one", ApiKeyHasher.ComputeHash("sk_one_key_123456"), scopes: "predict"))
                .AddEdgeAuthentication(static o => o.ApiKeys.Add("two", ApiKeyHasher.ComputeHash("sk_two_key_123456"), scopes: "predict")),
            static app => app.MapGet("/predict", static (HttpContext context) => context.GetCallerId()).RequireScopes("predict"),
            new TestAppOptions { Configuration = new Dictionary<string, string?>(), Time = new FakeTimeProvider(TestKeys.Now) });

        using var one = await app.Client.SendAsync(Get("/predict", apiKey: "sk_one_key_123456")).WaitAsync(Timeout);
        using var two = await app.Client.SendAsync(Get("/predict", apiKey: "sk_two_key_123456")).WaitAsync(Timeout);

        Assert.Equal("key:one", await one.Content.ReadAsStringAsync());
        Assert.Equal("key:two", await two.Content.ReadAsStringAsync());
    }
}
