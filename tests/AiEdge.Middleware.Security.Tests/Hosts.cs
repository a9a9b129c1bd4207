using System.Diagnostics.Metrics;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Security.Tests;

/// <summary>Real hosts with AiEdge core, the concerns under test, and short-circuiting stand-ins for other stages.</summary>
internal static class Hosts
{
    public static Task<TestApp> StartAsync(
        Action<IAiEdgeBuilder> edge,
        Action<WebApplication> map,
        IDictionary<string, string?>? configuration = null,
        bool kestrel = false)
        => TestApp.StartEdgeAsync(edge, map, new TestAppOptions { Configuration = configuration, Kestrel = kestrel });

    /// <summary>A stage that answers requests carrying <c>X-Refuse: {status}</c> with a problem, like a rate limiter or authentication would.</summary>
    public static IAiEdgeBuilder AddRefusal(this IAiEdgeBuilder edge, AiEdgeStage stage, int status)
        => edge.AddStage(stage, "test-refusal-" + status, app => app.Use(async (context, next) =>
        {
            if (context.Request.Headers["X-Refuse"] == status.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                if (status == StatusCodes.Status429TooManyRequests)
                {
                    context.Response.Headers.RetryAfter = "1";
                }

                await AiEdgeProblems.WriteAsync(context, status, "Refused by a later stage");
                return;
            }

            await next(context);
        }));

    /// <summary>Collects <c>aiedge.rejections</c> measurements of one app.</summary>
    public sealed class Rejections : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly List<(string Concern, string Reason)> _seen = [];

        public Rejections(IServiceProvider services)
        {
            var factory = services.GetRequiredService<IMeterFactory>();
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == "aiedge.rejections" && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
            {
                string? concern = null, reason = null;
                foreach (var tag in tags)
                {
                    if (tag.Key == AiEdgeDiagnostics.Tags.Concern) concern = tag.Value as string;
                    if (tag.Key == AiEdgeDiagnostics.Tags.Reason) reason = tag.Value as string;
                }

                lock (_seen)
                {
                    _seen.Add((concern!, reason!));
                }
            });
            _listener.Start();
        }

        public IReadOnlyList<(string Concern, string Reason)> Seen
        {
            get
            {
                lock (_seen)
                {
                    return [.. _seen];
                }
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
