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
builder.Services.AddAiEdge(edge => edge.AddSampleAuthentication().AddChatPage().AddCors().AddBodyLimits().AddRateLimiting().AddSampleModelBackend().AddStreaming().AddPredictionCache().AddIdempotency().AddRedis());

// Metrics and traces over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (see SampleTelemetry.cs).
builder.AddSampleTelemetry();

var app = builder.Build();

app.UseAiEdge();

// GET / : a page that streams a chat completion with fetch (wwwroot; its own CSP, see ChatPage.cs).
app.MapChatPage();

var json = new JsonSerializerOptions(JsonSerializerDefaults.Web);

app.MapPost("/v1/predict", async (HttpContext context, TimeProvider time) =>
{
    PredictRequest? request;
    try
    {
        request = await JsonSerializer.DeserializeAsync<PredictRequest>(context.Request.Body, json, context.RequestAborted);
    }
    catch (JsonException)
    {
        return Problems.BadRequest("The body is not valid JSON.");
    }

    if (request is null || string.IsNullOrWhiteSpace(request.Input))
    {
        return Problems.BadRequest("'input' is required and must not be empty.");
    }

    if (request.DelayMs is < 0 or > 10_000)
    {
        return Problems.BadRequest("'delay_ms' must be from 0 to 10000.");
    }

    if (request.DelayMs is > 0)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(request.DelayMs.Value), time, context.RequestAborted);
    }

    var (label, score) = ToyModel.Predict(request.Input);
    return Results.Ok(new PredictResponse(request.Model ?? "toy-sentiment", label, score, Guid.NewGuid().ToString("n")));
}).WithBodyLimit("1m").WithPredictionCache().WithIdempotency().WithRateLimitTier("predict");

app.MapPost("/v1/train", async (HttpContext context) =>
{
    try
    {
        using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
    }
    catch (JsonException)
    {
        return Problems.BadRequest("The body is not valid JSON.");
    }

    return Results.Accepted(value: new { job = Guid.NewGuid().ToString("n") });
}).WithBodyLimit("100m").WithIdempotency().WithRateLimitTier("train");

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
}).WithStreaming().WithRateLimitTier("generate");

app.MapGet("/v1/client", (HttpContext context) => Results.Ok(new
{
    ip = context.Connection.RemoteIpAddress?.ToString(),
    scheme = context.Request.Scheme,
    host = context.Request.Host.Value,
}));

app.Run();

/// <summary>The sample application (visible to the acceptance tests).</summary>
public partial class Program;
