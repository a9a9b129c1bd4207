namespace AiEdge.Samples.ModelApi;

/// <summary>A deterministic lexicon sentiment model: cheap, and the same input always gives the same answer.</summary>
public static class ToyModel
{
    private static readonly Dictionary<string, double> Lexicon = new(StringComparer.OrdinalIgnoreCase)
    {
        ["good"] = 1, ["great"] = 2, ["excellent"] = 3, ["love"] = 2, ["fast"] = 1, ["happy"] = 2, ["nice"] = 1,
        ["bad"] = -1, ["terrible"] = -3, ["hate"] = -2, ["slow"] = -1, ["awful"] = -3, ["sad"] = -2, ["broken"] = -2,
    };

    /// <summary>Labels <paramref name="input"/> as positive, negative or neutral with a score in [0, 1].</summary>
    public static (string Label, double Score) Predict(string input)
    {
        double sum = 0;
        var words = 0;
        foreach (var word in input.Split([' ', ',', '.', '!', '?', ';', ':', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            words++;
            if (Lexicon.TryGetValue(word, out var weight))
            {
                sum += weight;
            }
        }

        var label = sum > 0 ? "positive" : sum < 0 ? "negative" : "neutral";
        var score = Math.Round(1 / (1 + Math.Exp(-Math.Abs(sum) / Math.Max(1, Math.Sqrt(words)))), 4);
        return (label, score);
    }
}
