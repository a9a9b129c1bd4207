using System.Text.Json;
using AiEdge.Samples.ModelApi;

namespace AiEdge.Middleware.LoadBench;

/// <summary>The sample's predict, client and streamed chat endpoints on bare Kestrel, without any AiEdge concern.</summary>
internal static class BareKestrel
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    public static int Run(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web);

        app.MapPost("/v1/predict", async (HttpContext context) =>
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            var root = document.RootElement;
            var input = root.TryGetProperty("input", out var i) ? i.GetString() : null;
            if (string.IsNullOrWhiteSpace(input))
            {
                return Results.Problem(statusCode: 400, title: "Invalid request");
            }

            var model = root.TryGetProperty("model", out var m) ? m.GetString() : "toy-sentiment";
            var (label, score) = ToyModel.Predict(input);
            return Results.Json(new { model, label, score, invocation = Guid.NewGuid().ToString("n") }, json);
        });

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

        app.MapGet("/healthz", () => Results.Ok());
        app.Run();
        return 0;
    }
}
