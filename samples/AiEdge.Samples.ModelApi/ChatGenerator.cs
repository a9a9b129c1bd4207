using System.Runtime.CompilerServices;
using System.Text.Json;

namespace AiEdge.Samples.ModelApi;

/// <summary>A chat completion request, in the OpenAI Chat Completions shape (the parts the sample uses).</summary>
public sealed record ChatRequest(string Model, string Prompt, bool Stream, int MaxTokens)
{
    /// <summary>The largest <c>max_tokens</c> the built-in generator accepts.</summary>
    public const int MaxTokensLimit = 4096;

    /// <summary>Reads a request; returns an error message for a body the API cannot serve.</summary>
    public static bool TryParse(JsonElement root, out ChatRequest request, out string? error)
    {
        request = null!;
        error = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = "The body must be a JSON object.";
            return false;
        }

        var model = root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : "toy-chat";
        if (!root.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            error = "'messages' must be a non-empty array.";
            return false;
        }

        var prompt = new System.Text.StringBuilder();
        foreach (var message in messages.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object
                || !message.TryGetProperty("content", out var content)
                || content.ValueKind != JsonValueKind.String)
            {
                error = "Each message must be an object with a string 'content'.";
                return false;
            }

            prompt.Append(content.GetString()).Append(' ');
        }

        var stream = root.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        var maxTokens = 16;
        if (root.TryGetProperty("max_tokens", out var mt) && mt.ValueKind != JsonValueKind.Null)
        {
            if (mt.ValueKind != JsonValueKind.Number || !mt.TryGetInt32(out maxTokens) || maxTokens < 1 || maxTokens > MaxTokensLimit)
            {
                error = $"'max_tokens' must be an integer from 1 to {MaxTokensLimit}.";
                return false;
            }
        }

        request = new ChatRequest(model, prompt.ToString().Trim(), stream, maxTokens);
        return true;
    }
}

/// <summary>A deterministic token generator standing in for an LLM: one token every <c>Sample:TokenDelayMs</c>.</summary>
public sealed class ChatGenerator(TimeProvider time)
{
    private static readonly string[] Vocabulary =
    [
        "The", " model", " edge", " answers", " quickly", ",", " and", " every", " token", " arrives",
        " as", " soon", " as", " it", " is", " produced", ".",
    ];

    /// <summary>Estimated prompt tokens: roughly one per four characters.</summary>
    public static int CountPromptTokens(string prompt) => Math.Max(1, (prompt.Length + 3) / 4);

    /// <summary>Produces <paramref name="maxTokens"/> tokens, deterministic for a prompt, waiting <paramref name="delay"/> before each.</summary>
    public async IAsyncEnumerable<string> GenerateAsync(string prompt, int maxTokens, TimeSpan delay, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var offset = (int)((uint)StringComparer.Ordinal.GetHashCode(prompt.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)) % Vocabulary.Length);
        for (var i = 0; i < maxTokens; i++)
        {
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, time, cancellationToken);
            }

            cancellationToken.ThrowIfCancellationRequested();
            yield return Vocabulary[(offset + i) % Vocabulary.Length];
        }
    }
}
