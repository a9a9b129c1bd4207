using System.Text.Json;
using AiEdge.Middleware;
using AiEdge.Samples.ModelApi;
using Microsoft.Extensions.Options;

var builder = WebApplication.CreateBuilder(args);

builder.Services.Configure<SampleOptions>(builder.Configuration.GetSection("Sample"));
builder.Services.AddSingleton<ChatGenerator>();
builder.Services.AddHealthChecks();

// The whole edge: every concern reads its settings from the "AiEdge" section of appsettings.json.
// AddRedis() shares limits, cache and idempotency across replicas when AiEdge:Redis:Configuration is set; no-op when empty.
// AddConcurrency() caps the chat completions in flight (tier "generate"): pro callers are served first from its queue.
builder.Services.AddAiEdge(edge => edge.AddSampleAuthentication().AddChatPage().AddCors().AddBodyLimits().AddRateLimiting().AddConcurrency().AddSampleModelBackend().AddStreaming().AddPredictionCache().AddIdempotency().AddRedis());

// OpenTelemetry: metrics and traces over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, and a Prometheus scrape
// endpoint when Sample:PrometheusEndpoint is true (see SampleTelemetry.cs).
builder.AddSampleTelemetry();

var app = builder.Build();

app.UseAiEdge();

// GET /metrics : the Prometheus text format, only when Sample:PrometheusEndpoint is true.
app.MapSampleMetrics();

// GET / : a page that streams a chat completion with fetch (wwwroot; its own CSP, see ChatPage.cs).
app.MapChatPage();

var json = new JsonSerializerOptions(JsonSerializerDefaults.Web);

app.MapPost("/v1/predict", ModelEndpoints.PredictAsync).WithBodyLimit("1m").WithPredictionCache().WithIdempotency().WithRateLimitTier("predict");

app.MapPost("/v1/train", ModelEndpoints.TrainAsync).WithBodyLimit("100m").WithIdempotency().WithRateLimitTier("train");

app.MapPost("/v1/chat/completions", async (HttpContext context, ChatGenerator generator, IOptions<SampleOptions> options, TimeProvider time) =>
{
    // ModelBackend:BaseUrl set: forwarded to the backend pool behind circuit breakers (see BackendChat.cs).
    if (BackendChat.Find(context) is { } backend)
    {
        return await BackendChat.ForwardAsync(context, backend);
    }

    ChatRequest request;
    try
    {
        using var document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        if (!ChatRequest.TryParse(document.RootElement, out request, out var error))
        {
            return Problems.BadRequest(error!);
        }
    }
    catch (JsonException)
    {
        return Problems.BadRequest("The body is not valid JSON.");
    }

    var delay = TimeSpan.FromMilliseconds(Math.Max(0, options.Value.TokenDelayMs));
    var id = "chatcmpl-" + Guid.NewGuid().ToString("n");
    var created = time.GetUtcNow().ToUnixTimeSeconds();
    var promptTokens = ChatGenerator.CountPromptTokens(request.Prompt);
    var tokens = generator.GenerateAsync(request.Prompt, request.MaxTokens, delay, context.RequestAborted);

    if (!request.Stream)
    {
        var text = new System.Text.StringBuilder();
        var count = 0;
        await foreach (var token in tokens)
        {
            text.Append(token);
            count++;
        }

        return Results.Ok(ChatPayloads.Completion(id, created, request.Model, text.ToString(), promptTokens, count));
    }

    // Streamed: chat.completion.chunk events flushed as produced, the usage chunk, then "data: [DONE]".
    return EventStreamResults.Data(ChatPayloads.Chunks(id, created, request.Model, promptTokens, tokens), json, completion: "[DONE]");
}).WithStreaming().WithRateLimitTier("generate").WithConcurrencyTier("generate");

// GET and HEAD: MapGet alone would answer HEAD with 405 (see docs/health.md, "HEAD").
// Serialized first so a HEAD states the Content-Length the GET sends.
app.MapMethods("/v1/client", ChatPage.GetAndHead, (HttpContext context) => Results.Bytes(
    JsonSerializer.SerializeToUtf8Bytes(new
    {
        ip = context.Connection.RemoteIpAddress?.ToString(),
        scheme = context.Request.Scheme,
        host = context.Request.Host.Value,
    }, json),
    "application/json; charset=utf-8"));

app.Run();

/// <summary>The sample application (visible to the acceptance tests).</summary>
public partial class Program;
