using System.Runtime.CompilerServices;
using System.Text.Json.Serialization;

namespace AiEdge.Samples.ModelApi;

/// <summary>The body of <c>POST /v1/predict</c>.</summary>
public sealed record PredictRequest(
    string? Model,
    string? Input,
    [property: JsonPropertyName("delay_ms")] int? DelayMs);

/// <summary>The answer of <c>POST /v1/predict</c>; <paramref name="Invocation"/> identifies the model run.</summary>
public sealed record PredictResponse(string Model, string Label, double Score, string Invocation);

/// <summary>Problem answers of the sample's own validation.</summary>
public static class Problems
{
    /// <summary>A 400 problem details answer.</summary>
    public static IResult BadRequest(string detail)
        => TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid request", detail: detail);
}

/// <summary>OpenAI Chat Completions payloads.</summary>
public static class ChatPayloads
{
    /// <summary>A non-streamed <c>chat.completion</c>.</summary>
    public static object Completion(string id, long created, string model, string content, int promptTokens, int completionTokens) => new
    {
        id,
        @object = "chat.completion",
        created,
        model,
        choices = new[]
        {
            new { index = 0, message = new { role = "assistant", content }, finish_reason = "length" },
        },
        usage = Usage(promptTokens, completionTokens),
    };

    /// <summary>The <c>chat.completion.chunk</c> events of a streamed answer; the last one carries <c>usage</c>.</summary>
    public static async IAsyncEnumerable<object> Chunks(string id, long created, string model, int promptTokens, IAsyncEnumerable<string> tokens, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        yield return Chunk(id, created, model, new { role = "assistant", content = "" }, null);
        var count = 0;
        await foreach (var token in tokens.WithCancellation(cancellationToken))
        {
            count++;
            yield return Chunk(id, created, model, new { content = token }, null);
        }

        yield return Chunk(id, created, model, new { }, "length");
        yield return new
        {
            id,
            @object = "chat.completion.chunk",
            created,
            model,
            choices = Array.Empty<object>(),
            usage = Usage(promptTokens, count),
        };
    }

    private static object Chunk(string id, long created, string model, object delta, string? finishReason) => new
    {
        id,
        @object = "chat.completion.chunk",
        created,
        model,
        choices = new[] { new { index = 0, delta, finish_reason = finishReason } },
    };

    private static object Usage(int promptTokens, int completionTokens) => new
    {
        prompt_tokens = promptTokens,
        completion_tokens = completionTokens,
        total_tokens = promptTokens + completionTokens,
    };
}
