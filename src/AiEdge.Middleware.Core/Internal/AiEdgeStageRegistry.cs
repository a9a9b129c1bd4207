using Microsoft.AspNetCore.Builder;

namespace AiEdge.Middleware.Internal;

/// <summary>The concerns registered on the builder, each once, in the order <c>UseAiEdge()</c> applies them.</summary>
internal sealed class AiEdgeStageRegistry
{
    private readonly List<StageRegistration> _stages = [];

    public bool Contains(string key)
    {
        foreach (var stage in _stages)
        {
            if (string.Equals(stage.Key, key, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    public void Add(AiEdgeStage stage, string key, Action<IApplicationBuilder> apply)
    {
        if (!Contains(key))
        {
            _stages.Add(new StageRegistration(stage, key, apply, _stages.Count));
        }
    }

    public StageRegistration[] Ordered()
    {
        var ordered = _stages.ToArray();
        Array.Sort(ordered, static (a, b) => a.Stage != b.Stage ? a.Stage.CompareTo(b.Stage) : a.Sequence.CompareTo(b.Sequence));
        return ordered;
    }

    internal sealed record StageRegistration(AiEdgeStage Stage, string Key, Action<IApplicationBuilder> Apply, int Sequence);
}
