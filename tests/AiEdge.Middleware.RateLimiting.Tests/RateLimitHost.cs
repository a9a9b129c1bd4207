using System.Net;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.RateLimiting.Tests;

/// <summary>Starts a real host with rate limiting, the fake clock (FakeTimeProvider) and the <see cref="TestCaller"/> headers.</summary>
internal static class RateLimitHost
{
    public static Task<TestApp> StartAsync(
        FakeTimeProvider time,
        Action<RateLimitingOptions>? configure,
        Action<WebApplication> map,
        IDictionary<string, string?>? configuration = null,
        bool kestrel = false,
        Action<IServiceCollection>? services = null)
        => TestApp.StartEdgeAsync(
            edge => edge.AddRateLimiting(configure),
            map,
            new TestAppOptions
            {
                Configuration = configuration,
                Time = time,
                Services = services is null ? null : builder => services(builder.Services),
                Before = static app => app.UseTestCaller(),
                Kestrel = kestrel,
            });

    public static async Task<HttpResponseMessage> SendAsync(this TestApp app, string path, string? ip = null, string? user = null, string? plan = null, HttpMethod? method = null, HttpContent? content = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, path) { Content = content };
        if (ip is not null)
        {
            request.Headers.Add(TestCaller.IpHeader, ip);
        }

        if (user is not null)
        {
            request.Headers.Add(TestCaller.UserHeader, user);
        }

        if (plan is not null)
        {
            request.Headers.Add(TestCaller.PlanHeader, plan);
        }

        return await app.Client.SendAsync(request, cancellationToken).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
    }

    /// <summary>Sends <paramref name="count"/> requests one after another; returns the status codes.</summary>
    public static async Task<List<HttpStatusCode>> SendManyAsync(this TestApp app, string path, int count, string? ip = null, string? user = null, string? plan = null)
    {
        var statuses = new List<HttpStatusCode>(count);
        for (var i = 0; i < count; i++)
        {
            using var response = await app.SendAsync(path, ip, user, plan);
            statuses.Add(response.StatusCode);
        }

        return statuses;
    }

    public static string Header(this HttpResponseMessage response, string name)
        => response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values) : string.Empty;
}
