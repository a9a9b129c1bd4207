using System.Diagnostics.Metrics;
using System.Net.Http.Headers;
using System.Threading.Channels;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Streaming.Tests;

/// <summary>Where an application puts response compression relative to <c>UseAiEdge()</c>.</summary>
public enum CompressionPlacement
{
    None,
    BeforeAiEdge,
    AfterAiEdge,
}

/// <summary>Hosts for the streaming tests: Kestrel on loopback, the AiEdge pipeline, compression that includes text/event-stream.</summary>
internal static class StreamingHost
{
    public static Task<TestApp> StartAsync(
        Action<WebApplication> map,
        CompressionPlacement compression = CompressionPlacement.BeforeAiEdge,
        TimeProvider? time = null,
        bool addStreaming = true,
        IDictionary<string, string?>? configuration = null,
        Action<WebApplicationBuilder>? services = null,
        Action<WebApplication>? beforeMap = null)
        => TestApp.StartEdgeAsync(
            edge =>
            {
                edge.AddForwardedHeaders().AddSecurityHeaders().AddCors().AddBodyLimits().AddPredictionCache().AddIdempotency();
                if (addStreaming)
                {
                    edge.AddStreaming();
                }
            },
            app =>
            {
                if (compression == CompressionPlacement.AfterAiEdge)
                {
                    app.UseResponseCompression();
                }

                beforeMap?.Invoke(app);
                map(app);
            },
            new TestAppOptions
            {
                Configuration = configuration,
                Time = time,
                Services = builder =>
                {
                    builder.Services.AddResponseCompression(options =>
                    {
                        options.EnableForHttps = true;
                        options.MimeTypes = [.. ResponseCompressionDefaults.MimeTypes, "text/event-stream", "application/x-ndjson"];
                    });
                    services?.Invoke(builder);
                },
                Before = compression == CompressionPlacement.BeforeAiEdge ? static app => app.UseResponseCompression() : null,
                Kestrel = true,
            });

    /// <summary>Sends a GET that asks for compression and returns as soon as the headers arrived.</summary>
    public static Task<HttpResponseMessage> GetStreamAsync(this TestApp app, string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("br"));
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("gzip"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        return app.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(StreamingEventReader.DefaultTimeout);
    }

    /// <summary>
    /// Maps <paramref name="pattern"/> to a handler that starts a <c>text/event-stream</c> and then writes, raw and
    /// flushed, whatever the test pushes into <paramref name="script"/>, until the channel completes.
    /// </summary>
    public static IEndpointConventionBuilder MapScripted(this WebApplication app, string pattern, Channel<string> script)
        => app.MapGet(pattern, async (HttpContext context) =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.StartAsync(context.RequestAborted);
            var body = context.Response.Body;
            await foreach (var text in script.Reader.ReadAllAsync(context.RequestAborted))
            {
                await body.WriteAsync(System.Text.Encoding.UTF8.GetBytes(text), context.RequestAborted);
                await body.FlushAsync(context.RequestAborted);
            }
        });

    /// <summary>Listens to one instrument of the application's AiEdge meter.</summary>
    public static MeterListener Listen(this TestApp app, string instrumentName, Action<long, ReadOnlySpan<KeyValuePair<string, object?>>> onMeasurement)
    {
        var factory = app.Services.GetRequiredService<IMeterFactory>();
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == instrumentName && instrument.Meter.Scope == factory)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) => onMeasurement(value, tags));
        listener.SetMeasurementEventCallback<double>((_, value, tags, _) => onMeasurement((long)value, tags));
        listener.Start();
        return listener;
    }
}
