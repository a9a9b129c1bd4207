namespace AiEdge.Samples.ModelApi;

/// <summary>The sample's own settings (section <c>Sample</c>).</summary>
public sealed class SampleOptions
{
    /// <summary>Milliseconds between two generated tokens.</summary>
    public int TokenDelayMs { get; set; } = 20;
}
