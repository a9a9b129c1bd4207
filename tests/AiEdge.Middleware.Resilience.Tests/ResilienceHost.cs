using System.Net.Http.Json;
using AiEdge.Middleware.Resilience;
using AiEdge.Middleware.Resilience.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Resilience.Tests;

/// <summary>An app forwarding <c>POST /chat</c> and <c>GET /models</c> to backend pool <c>model</c> over fake backends.</summary>
internal static class ResilienceHost
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    public static Dictionary<string, string?> Settings(params FakeModelBackend[] backends)
    {
        var settings = new Dictionary<string, string?>
        {
            ["AiEdge:Resilience:Breakers:model:FailureRatio"] = "0.5",
            ["AiEdge:Resilience:Breakers:model:MinimumThroughput"] = "2",
            ["AiEdge:Resilience:Breakers:model:BreakDuration"] = "00:00:30",
            ["AiEdge:Resilience:Breakers:model:AttemptTimeout"] = "00:00:05",
            ["AiEdge:Resilience:Breakers:model:TotalTimeout"] = "00:00:20",
            ["AiEdge:Resilience:Breakers:model:RetryDelay"] = "00:00:00",
        };
        for (var i = 0; i < backends.Length; i++)
        {
            settings["AiEdge:Resilience:Backends:model:Replicas:" + i + ":Url"] = backends[i].BaseAddress + "v1";
            settings["AiEdge:Resilience:Backends:model:Replicas:" + i + ":Name"] = "r" + i;
        }

        return settings;
    }

    public static Task<TestApp> StartAsync(FakeTimeProvider clock, IDictionary<string, string?> settings, bool kestrel = false, Action<WebApplication>? map = null)
        => TestApp.StartEdgeAsync(
            static edge => edge.AddModelBackendClient("model"),
            app =>
            {
                app.MapPost("/chat", static (HttpContext context, ModelBackendClient backend)
                    => backend.ForwardAsync(context, HttpMethod.Post, "chat/completions", new StreamContent(context.Request.Body)));
                app.MapGet("/models", static (HttpContext context, ModelBackendClient backend)
                    => backend.ForwardAsync(context, HttpMethod.Get, "models"));
                map?.Invoke(app);
            },
            new TestAppOptions { Configuration = settings, Time = clock, Kestrel = kestrel });

    public static Task<HttpResponseMessage> ChatAsync(this HttpClient client, bool stream = false)
        => client.PostAsJsonAsync("/chat", new { model = "m", stream, messages = new[] { new { role = "user", content = "hi" } } }).WaitAsync(Wait);

    public static BackendPool Pool(this TestApp app) => app.Services.GetRequiredService<BreakerRegistry>().GetPool("model");
}
