using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace AiEdge.Middleware.RateLimiting.Internal;

/// <summary>
/// What a request body says about the tokens it will cost: the prompt's characters (<c>messages[].content</c>,
/// <c>prompt</c>, <c>input</c>) and <c>max_tokens</c> / <c>max_completion_tokens</c>. Reading leaves the body
/// readable for the endpoint (it is buffered and rewound).
/// </summary>
internal sealed class BodyEstimate
{
    public long PromptChars { get; private set; }

    public long? MaxTokens { get; private set; }

    /// <summary>The tokens to reserve under <paramref name="budget"/>: the prompt estimate plus the completion limit.</summary>
    public long TokensFor(RateLimitTokenBudget budget) => PromptTokens(budget) + (MaxTokens ?? budget.DefaultMaxTokens);

    /// <summary>The prompt estimate under <paramref name="budget"/>.</summary>
    public long PromptTokens(RateLimitTokenBudget budget) => (PromptChars + budget.CharsPerToken - 1) / budget.CharsPerToken;

    public static async Task<BodyEstimate> ReadAsync(HttpContext context, RateLimitTokenBudget budget)
    {
        var estimate = new BodyEstimate();
        var request = context.Request;
        var limit = budget.MaxInspectedBodyBytes;
        if (limit == 0 || request.ContentLength == 0)
        {
            estimate.PromptChars = request.ContentLength ?? 0;
            return estimate;
        }

        request.EnableBuffering();
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(request.ContentLength ?? 4096, limit) + 1);
        var length = 0;
        try
        {
            while (length < limit)
            {
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, limit + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await request.Body.ReadAsync(buffer.AsMemory(length, Math.Min(buffer.Length, limit) - length), context.RequestAborted);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }

            var complete = length < limit || request.ContentLength == length;
            estimate.Parse(buffer.AsSpan(0, length), complete);
            if (!complete)
            {
                estimate.PromptChars = Math.Max(estimate.PromptChars, request.ContentLength ?? length);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            request.Body.Position = 0;
        }

        return estimate;
    }

    internal void Parse(ReadOnlySpan<byte> json, bool isFinalBlock)
    {
        var reader = new Utf8JsonReader(json, isFinalBlock, default);
        var inPrompt = false;
        var promptDepth = 0;
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName when reader.CurrentDepth == 1:
                        if (reader.ValueTextEquals("max_tokens"u8) || reader.ValueTextEquals("max_completion_tokens"u8))
                        {
                            if (reader.Read() && reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var max) && max >= 0)
                            {
                                MaxTokens = max;
                            }
                        }
                        else if (reader.ValueTextEquals("messages"u8) || reader.ValueTextEquals("prompt"u8) || reader.ValueTextEquals("input"u8))
                        {
                            inPrompt = true;
                            promptDepth = 1;
                        }
                        else
                        {
                            inPrompt = false;
                        }

                        break;
                    case JsonTokenType.String when inPrompt && reader.CurrentDepth >= promptDepth:
                        PromptChars += reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
                        break;
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: the endpoint answers it; estimate from its size.
            PromptChars = json.Length;
        }
    }
}
