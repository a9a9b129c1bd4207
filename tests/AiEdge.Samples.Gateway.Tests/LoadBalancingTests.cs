using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiEdge.Samples.Gateway.Tests;

/// <summary>
/// The sample's <c>vllm</c> cluster under load: traffic split by the configured weights, and a destination killed
/// and restored while requests run, with no answer but 200 and the documented 502/503/504 problems.
/// </summary>
public sealed class LoadBalancingTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Traffic_is_split_within_ten_percent_of_the_configured_weights()
    {
        await using var heavy = await FakeVllm.StartAsync("gpu-heavy");
        await using var light = await FakeVllm.StartAsync("gpu-light");
        await using var qdrant = await FakeQdrant.StartAsync();
        await using var gateway = new GatewayFactory([heavy.BaseAddress, light.BaseAddress], qdrant.BaseAddress, weights: [3, 1]);
        using var client = new HttpClient { BaseAddress = gateway.StartKestrel() };

        const int Total = 400;
        await Parallel.ForAsync(0, Total, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (_, cancellationToken) =>
        {
            using var response = await client.SendAsync(Chat(), cancellationToken).WaitAsync(Timeout, cancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        });

        var heavyShare = heavy.Requests.Count / (double)Total;
        var lightShare = light.Requests.Count / (double)Total;
        Assert.InRange(heavyShare, 0.75 * 0.9, 0.75 * 1.1);
        Assert.InRange(lightShare, 0.25 * 0.9, 0.25 * 1.1);
    }

    [Fact]
    public async Task Destination_killed_and_restored_under_load_costs_only_documented_answers()
    {
        await using var steady = await FakeVllm.StartAsync("gpu-steady");
        await using var flaky = await PortBoundVllm.StartAsync();
        await using var qdrant = await FakeQdrant.StartAsync();
        var logs = new LogCapture();
        await using var gateway = new GatewayFactory(
            [steady.BaseAddress, flaky.BaseAddress],
            qdrant.BaseAddress,
            new Dictionary<string, string?>
            {
                ["AiEdge:ReverseProxy:Breakers:vllm:MinimumThroughput"] = "4",
                ["AiEdge:ReverseProxy:Breakers:vllm:BreakDuration"] = "00:00:01",
                ["ReverseProxy:Clusters:vllm:HealthCheck:Active:Interval"] = "00:00:01",
            },
            logs);
        using var client = new HttpClient { BaseAddress = gateway.StartKestrel() };
        var statuses = new ConcurrentQueue<HttpStatusCode>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        async Task LoadAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                using var response = await client.SendAsync(Chat()).WaitAsync(Timeout);
                statuses.Enqueue(response.StatusCode);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                }
            }
        }

        var load = Enumerable.Range(0, 4).Select(_ => Task.Run(LoadAsync)).ToArray();
        await WaitUntilAsync(() => flaky.Served >= 20, stop.Token);
        await flaky.StopAsync();                                   // killed: connections refused
        var killedAt = statuses.Count;
        await WaitUntilAsync(() => statuses.Count >= killedAt + 100, stop.Token);
        await flaky.RestartAsync();                                // restored on the same address
        var servedBeforeRestore = flaky.Served;
        await WaitUntilAsync(() => flaky.Served >= servedBeforeRestore + 20, stop.Token);   // back in rotation
        await stop.CancelAsync();
        await Task.WhenAll(load);

        Assert.All(statuses, s => Assert.Contains(s, new[] { HttpStatusCode.OK, HttpStatusCode.BadGateway, HttpStatusCode.ServiceUnavailable, HttpStatusCode.GatewayTimeout }));
        Assert.True(statuses.Count(s => s == HttpStatusCode.OK) > statuses.Count * 0.9, "the healthy destination carries the traffic while the other is out");
        Assert.Empty(logs.AtLeast(LogLevel.Error));
    }

    private static async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            await Task.Delay(10, cancellationToken);   // polls a condition the load drives; no timing is asserted
        }
    }

    private static HttpRequestMessage Chat()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("{\"model\":\"llama\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":4}", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-API-Key", GatewayFactory.TeamAKey);
        return request;
    }

    /// <summary>A minimal OpenAI-compatible server that can be stopped and started again on the same loopback port.</summary>
    private sealed class PortBoundVllm : IAsyncDisposable
    {
        private WebApplication? _app;
        private int _served;

        private PortBoundVllm(int port) => Port = port;

        public int Port { get; }

        public Uri BaseAddress => new("http://127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture) + "/");

        public int Served => Volatile.Read(ref _served);

        public static async Task<PortBoundVllm> StartAsync()
        {
            var first = await StartAppAsync(0, null);
            var port = new Uri(first.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
            var server = new PortBoundVllm(port);
            await first.StopAsync();
            await first.DisposeAsync();
            await server.RestartAsync();
            return server;
        }

        public async Task RestartAsync() => _app = await StartAppAsync(Port, this);

        public async Task StopAsync()
        {
            if (_app is not null)
            {
                await _app.StopAsync();
                await _app.DisposeAsync();
                _app = null;
            }
        }

        public ValueTask DisposeAsync() => new(StopAsync());

        private static async Task<WebApplication> StartAppAsync(int port, PortBoundVllm? owner)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, port));
            var app = builder.Build();
            app.MapGet("/health", () => Results.Ok());
            app.MapPost("/v1/chat/completions", () =>
            {
                if (owner is not null)
                {
                    Interlocked.Increment(ref owner._served);
                }

                return Results.Text("{\"object\":\"chat.completion\",\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"hi\"}}]}", "application/json");
            });
            await app.StartAsync();
            return app;
        }
    }
}
