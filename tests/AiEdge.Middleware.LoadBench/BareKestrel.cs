using System.Text.Json;
using AiEdge.Samples.ModelApi;

namespace AiEdge.Middleware.LoadBench;

/// <summary>
/// The sample's predict, train, client and streamed chat endpoints on bare Kestrel: the sample's host and endpoint code
/// without any AiEdge concern; and an embeddings endpoint, the backend of the gateway targets.
/// </summary>
internal static class BareKestrel
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();
    private static readonly byte[] Embedding = """{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.0123,-0.0456,0.0789,0.1011,-0.1213,0.1415,0.1617,-0.1819]}],"model":"toy-embed","usage":{"prompt_tokens":4,"total_tokens":4}}"""u8.ToArray();

    public static int Run(string[] args)
    {
        // The same host as the sample (WebApplication.CreateBuilder: its logging, configuration and host filtering)
        // and the same endpoint code, so that the only difference measured is AddAiEdge()/UseAiEdge().
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddSingleton(TimeProvider.System); // the predict handler's clock (AiEdge registers it in the sample)
        var app = builder.Build();
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web);

        app.MapPost("/v1/predict", ModelEndpoints.PredictAsync);
        app.MapPost("/v1/train", ModelEndpoints.TrainAsync);

        app.MapGet("/v1/client", (HttpContext context) => Results.Json(new
        {
            ip = context.Connection.RemoteIpAddress?.ToString(),
            scheme = context.Request.Scheme,
            host = context.Request.Host.Value,
        }, json));

        app.MapPost("/v1/chat/completions", async (HttpContext context) =>
        {
            var response = context.Response;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            await response.StartAsync(context.RequestAborted);
            for (var n = 0; n < 16; n++)
            {
                await Task.Delay(20, context.RequestAborted);
                await response.Body.WriteAsync(DataPrefix, context.RequestAborted);
                await JsonSerializer.SerializeAsync(response.Body, new { @object = "chat.completion.chunk", choices = new[] { new { index = 0, delta = new { content = "tok" } } } }, json, context.RequestAborted);
                await response.Body.WriteAsync(EventEnd, context.RequestAborted);
                await response.Body.FlushAsync(context.RequestAborted);
            }

            await response.Body.WriteAsync(Done, context.RequestAborted);
        });

        // An embeddings answer of a model server, for the gateway targets (AiEdge + YARP, NGINX proxy) to relay.
        app.MapPost("/v1/embeddings", async (HttpContext context) =>
        {
            using var request = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            context.Response.ContentType = "application/json";
            await context.Response.Body.WriteAsync(Embedding, context.RequestAborted);
        });

        app.MapGet("/healthz", () => Results.Ok());
        app.Run();
        return 0;
    }
}
