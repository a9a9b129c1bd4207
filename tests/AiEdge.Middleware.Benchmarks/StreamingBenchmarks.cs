using System.Text;
using System.Text.Json;
using AiEdge.Middleware.Streaming;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.Benchmarks;

/// <summary>
/// The streaming stage's cost on one routed request, through the public API: a small JSON answer (the stage only
/// watches) and a 20-event stream (the stage flushes per event and runs a heartbeat timer). Baselines are the same
/// pipelines without the stage; "MarkedOnly" is the stage with content-type detection switched off.
/// </summary>
[MemoryDiagnoser]
public class StreamingStageBenchmarks
{
    private static readonly byte[] Json = "{\"label\":\"positive\"}"u8.ToArray();
    private static readonly byte[] Event = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" token\"}}]}\n\n"u8.ToArray();
    private WebApplication[] _apps = [];
    private RequestDelegate[] _pipelines = [];

    [GlobalSetup]
    public void Setup()
    {
        var apps = new[] { Build(stage: false, detect: true), Build(stage: true, detect: true), Build(stage: true, detect: false) };
        _apps = [.. apps.Select(static a => a.App)];
        _pipelines = [.. apps.Select(static a => a.Pipeline)];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var app in _apps)
        {
            ((IDisposable)app).Dispose();
        }
    }

    /// <summary>A JSON answer without the stage.</summary>
    [Benchmark(Baseline = true)]
    public Task Json_NoStage() => _pipelines[0](NewContext(_apps[0], "/json"));

    /// <summary>A JSON answer with the stage detecting event streams.</summary>
    [Benchmark]
    public Task Json_Stage() => _pipelines[1](NewContext(_apps[1], "/json"));

    /// <summary>A JSON answer with the stage only watching marked endpoints.</summary>
    [Benchmark]
    public Task Json_StageMarkedOnly() => _pipelines[2](NewContext(_apps[2], "/json"));

    /// <summary>One event without the stage: with <see cref="Sse20_NoStage"/>, separates the cost per stream from the cost per event.</summary>
    [Benchmark]
    public Task Sse1_NoStage() => _pipelines[0](NewContext(_apps[0], "/sse1"));

    /// <summary>One event through the stage.</summary>
    [Benchmark]
    public Task Sse1_Stage() => _pipelines[1](NewContext(_apps[1], "/sse1"));

    /// <summary>20 events without the stage (the handler flushes each).</summary>
    [Benchmark]
    public Task Sse20_NoStage() => _pipelines[0](NewContext(_apps[0], "/sse"));

    /// <summary>20 events through the stage.</summary>
    [Benchmark]
    public Task Sse20_Stage() => _pipelines[1](NewContext(_apps[1], "/sse"));

    private static (WebApplication App, RequestDelegate Pipeline) Build(bool stage, bool detect)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddAiEdgeCore(edge =>
        {
            if (stage)
            {
                edge.AddStreaming(options => options.DetectEventStreams = detect);
            }
        });
        var app = builder.Build();
        app.UseAiEdge();
        app.MapGet("/json", static context =>
        {
            context.Response.ContentType = "application/json";
            return context.Response.Body.WriteAsync(Json).AsTask();
        });
        app.MapGet("/sse", static context => WriteEventsAsync(context, 20));
        app.MapGet("/sse1", static context => WriteEventsAsync(context, 1));

        // The pipeline is built by hand (no host): without UseEndpoints the matched endpoint would never run.
        app.UseEndpoints(static _ => { });
        return (app, ((IApplicationBuilder)app).Build());
    }

    private static async Task WriteEventsAsync(HttpContext context, int count)
    {
        context.Response.ContentType = "text/event-stream";
        var body = context.Response.Body;
        for (var i = 0; i < count; i++)
        {
            await body.WriteAsync(Event);
            await body.FlushAsync();
        }
    }

    private static HttpContext NewContext(WebApplication app, string path)
    {
        var context = new DefaultHttpContext { RequestServices = app.Services };
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(Stream.Null));
        context.Request.Method = HttpMethods.Get;
        context.Request.Path = path;
        return context;
    }
}

/// <summary>
/// Writing 20 OpenAI chat chunks as server-sent events: the AiEdge <see cref="EventStreamWriter"/> (JSON serialized
/// into the response's pooled writer) against the sample's former hand-written writer (JSON serialized to the
/// response stream between two prefix writes, the baseline) and per-event string formatting.
/// </summary>
[MemoryDiagnoser]
public class EventStreamWriterBenchmarks
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
    private static readonly IServiceProvider Services = new ServiceCollection().AddOptions().BuildServiceProvider();
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private object[] _chunks = [];

    [GlobalSetup]
    public void Setup()
    {
        _chunks = new object[20];
        for (var i = 0; i < _chunks.Length; i++)
        {
            _chunks[i] = new Chunk("chatcmpl-0123456789abcdef", "chat.completion.chunk", 1767225600, "toy-chat", [new Choice(0, new Delta(" token"), null)]);
        }
    }

    /// <summary>Serialize to the stream between prefix writes, flush per event.</summary>
    [Benchmark(Baseline = true)]
    public async Task HandWritten()
    {
        var context = NewContext();
        var body = context.Response.Body;
        foreach (var chunk in _chunks)
        {
            await body.WriteAsync(DataPrefix);
            await JsonSerializer.SerializeAsync(body, chunk, Web);
            await body.WriteAsync(EventEnd);
            await body.FlushAsync();
        }
    }

    /// <summary>Format each event as a string, then encode and write it.</summary>
    [Benchmark]
    public async Task StringFormatting()
    {
        var context = NewContext();
        var body = context.Response.Body;
        foreach (var chunk in _chunks)
        {
            await body.WriteAsync(Encoding.UTF8.GetBytes($"data: {JsonSerializer.Serialize(chunk, Web)}\n\n"));
            await body.FlushAsync();
        }
    }

    /// <summary>The AiEdge writer.</summary>
    [Benchmark]
    public async Task EventStreamWriter_()
    {
        var context = NewContext();
        var writer = await EventStreamWriter.StartAsync(context.Response, Web);
        foreach (var chunk in _chunks)
        {
            await writer.WriteAsync(chunk);
        }

        await context.Response.BodyWriter.CompleteAsync();
    }

    /// <summary>The framework's <c>TypedResults.ServerSentEvents</c> over the same chunks as <c>SseItem</c>s.</summary>
    [Benchmark]
    public Task TypedResultsServerSentEvents() => TypedResults.ServerSentEvents(Items(_chunks)).ExecuteAsync(NewContext(Services));

    /// <summary>The AiEdge result over the same chunks as <c>SseItem</c>s.</summary>
    [Benchmark]
    public Task EventStreamResultsItems() => EventStreamResults.Items(Items(_chunks), Web).ExecuteAsync(NewContext(Services));

    private static async IAsyncEnumerable<System.Net.ServerSentEvents.SseItem<object>> Items(object[] chunks)
    {
        foreach (var chunk in chunks)
        {
            yield return new System.Net.ServerSentEvents.SseItem<object>(chunk);
        }

        await Task.CompletedTask;
    }

    private static DefaultHttpContext NewContext(IServiceProvider? services = null)
    {
        var context = new DefaultHttpContext { RequestServices = services! };
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(Stream.Null));
        return context;
    }

    private sealed record Chunk(string Id, string Object, long Created, string Model, Choice[] Choices);

    private sealed record Choice(int Index, Delta Delta, string? FinishReason);

    private sealed record Delta(string Content);
}

/// <summary>
/// Many concurrent event streams over Kestrel on loopback through the streaming stage, with response compression
/// configured for text/event-stream: one operation opens <see cref="Streams"/> streams at once and waits until every
/// client has its first event (time to first event under load), then reads them to the end. The baseline serves
/// the same streams without the stage. Memory columns include the in-process clients.
/// </summary>
[MemoryDiagnoser]
public class ConcurrentStreamsBenchmarks
{
    private static readonly byte[] Event = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" token\"}}]}\n\n"u8.ToArray();
    private WebApplication _plain = null!;
    private WebApplication _staged = null!;
    private HttpClient _plainClient = null!;
    private HttpClient _stagedClient = null!;

    /// <summary>Gets or sets the number of concurrent streams.</summary>
    [Params(200)]
    public int Streams { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        (_plain, _plainClient) = Start(stage: false);
        (_staged, _stagedClient) = Start(stage: true);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _plainClient.Dispose();
        _stagedClient.Dispose();
        _plain.StopAsync().GetAwaiter().GetResult();
        _staged.StopAsync().GetAwaiter().GetResult();
    }

    /// <summary>Concurrent streams without the stage.</summary>
    [Benchmark(Baseline = true)]
    public Task NoStage() => RunAsync(_plainClient);

    /// <summary>Concurrent streams through the stage.</summary>
    [Benchmark]
    public Task Stage() => RunAsync(_stagedClient);

    private async Task RunAsync(HttpClient client)
    {
        var firstEvents = new Task<Stream>[Streams];
        for (var i = 0; i < firstEvents.Length; i++)
        {
            firstEvents[i] = OpenAsync(client);
        }

        var streams = await Task.WhenAll(firstEvents);
        var buffer = new byte[4096];
        foreach (var stream in streams)
        {
            while (await stream.ReadAsync(buffer) > 0)
            {
            }

            await stream.DisposeAsync();
        }
    }

    private static async Task<Stream> OpenAsync(HttpClient client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/sse");
        request.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip, br");
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[256];
        _ = await stream.ReadAsync(buffer);   // the first event
        return stream;
    }

    private static (WebApplication App, HttpClient Client) Start(bool stage)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Services.AddResponseCompression(options => options.MimeTypes = ["text/event-stream"]);
        builder.Services.AddAiEdgeCore(edge =>
        {
            if (stage)
            {
                edge.AddStreaming();
            }
        });
        var app = builder.Build();
        app.UseResponseCompression();
        app.UseAiEdge();
        app.MapGet("/sse", static async context =>
        {
            context.Response.ContentType = "text/event-stream";
            var body = context.Response.Body;
            for (var i = 0; i < 5; i++)
            {
                await body.WriteAsync(Event);
                await body.FlushAsync();
            }
        });
        app.StartAsync().GetAwaiter().GetResult();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue }) { BaseAddress = new Uri(address) };
        return (app, client);
    }
}
