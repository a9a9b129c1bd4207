using System.Diagnostics.Metrics;
using AiEdge.Middleware.Caching;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Caching.Tests;

/// <summary>Real hosts with the caching concerns, the <see cref="TestCaller"/> identity and the fake clock (FakeTimeProvider).</summary>
internal static class CachingHost
{
    public const string UserHeader = TestCaller.UserHeader;

    /// <summary>A request carrying this header (a key of <see cref="Cancellations"/>) sees that token as its RequestAborted.</summary>
    public const string CancelHeader = "X-Test-Cancel";

    public static readonly System.Collections.Concurrent.ConcurrentDictionary<string, CancellationToken> Cancellations = new();

    public static Task<TestApp> StartAsync(
        Action<WebApplication> map,
        Action<PredictionCacheOptions>? cache = null,
        Action<IdempotencyOptions>? idempotency = null,
        TimeProvider? time = null,
        IDictionary<string, string?>? configuration = null,
        Action<IServiceCollection>? services = null,
        bool kestrel = false)
        => TestApp.StartEdgeAsync(
            edge => edge.AddPredictionCache(cache).AddIdempotency(idempotency),
            map,
            new TestAppOptions
            {
                Configuration = configuration,
                Time = time,
                Services = services is null ? null : builder => services(builder.Services),
                Before = static app =>
                {
                    app.UseTestCaller();
                    app.Use(static (context, next) =>
                    {
                        if (context.Request.Headers.TryGetValue(CancelHeader, out var cancel) && Cancellations.TryGetValue(cancel.ToString(), out var token))
                        {
                            context.RequestAborted = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, token).Token;
                        }

                        return next(context);
                    });
                },
                Kestrel = kestrel,
            });

    /// <summary>A JSON POST with optional extra headers.</summary>
    public static HttpRequestMessage Post(string path, string json, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    public static string XCache(HttpResponseMessage response)
        => response.Headers.TryGetValues("X-Cache", out var values) ? string.Join(",", values) : "";

    /// <summary>Counts measurements of one AiEdge instrument of one host, and signals when a count is reached.</summary>
    public sealed class InstrumentCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly long _target;
        private long _count;

        public InstrumentCounter(IServiceProvider services, string instrument, long target)
        {
            var factory = services.GetRequiredService<IMeterFactory>();
            _target = target;
            _listener.InstrumentPublished = (i, listener) =>
            {
                if (i.Name == instrument && ReferenceEquals(i.Meter.Scope, factory))
                {
                    listener.EnableMeasurementEvents(i);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) =>
            {
                if (Interlocked.Add(ref _count, value) >= _target)
                {
                    _reached.TrySetResult();
                }
            });
            _listener.Start();
        }

        public long Count => Interlocked.Read(ref _count);

        public Task Reached => _reached.Task;

        public void Dispose() => _listener.Dispose();
    }
}
