using AiEdge.Middleware.Internal;
using AiEdge.Middleware.Caching;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Caching.Internal;

/// <summary>The effective settings of one policy, computed once from the options.</summary>
internal sealed class ResolvedCachePolicy
{
    public required string Name { get; init; }

    public required TimeSpan Duration { get; init; }

    public required TimeSpan StaleIfError { get; init; }

    public required string[] ExcludedJsonFields { get; init; }

    public required string[] VaryByHeaders { get; init; }

    public required string[] VaryByQuery { get; init; }

    public required AnonymousCaching Anonymous { get; init; }

    public required InvalidJsonHandling InvalidJson { get; init; }

    public required DuplicateJsonMembers DuplicateMembers { get; init; }

    public required bool IgnoreClientNoCache { get; init; }

    public required bool IgnoreClientNoStore { get; init; }

    /// <summary>Whether hits and stale answers carry <c>Age</c>.</summary>
    public required bool SendAge { get; init; }
}

/// <summary>The default policy and the named ones, resolved at startup.</summary>
internal sealed class CachePolicyRegistry
{
    private readonly Dictionary<string, ResolvedCachePolicy> _named;

    public CachePolicyRegistry(IOptions<PredictionCacheOptions> options)
    {
        var value = options.Value;
        Default = Resolve(string.Empty, value, null);
        _named = new Dictionary<string, ResolvedCachePolicy>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, policy) in value.Policies)
        {
            _named[name] = Resolve(name, value, policy);
        }
    }

    public ResolvedCachePolicy Default { get; }

    public ResolvedCachePolicy? Find(string? name)
        => name is null ? Default : _named.GetValueOrDefault(name);

    public bool Contains(string name) => _named.ContainsKey(name);

    private static ResolvedCachePolicy Resolve(string name, PredictionCacheOptions options, PredictionCachePolicy? policy) => new()
    {
        Name = name,
        Duration = policy?.Duration ?? options.Duration,
        StaleIfError = policy?.StaleIfError ?? options.StaleIfError,
        ExcludedJsonFields = [.. policy?.ExcludedJsonFields ?? options.ExcludedJsonFields],
        VaryByHeaders = [.. policy?.VaryByHeaders ?? options.VaryByHeaders],
        VaryByQuery = [.. policy?.VaryByQuery ?? options.VaryByQuery],
        Anonymous = policy?.Anonymous ?? options.Anonymous,
        InvalidJson = policy?.InvalidJson ?? options.InvalidJson,
        DuplicateMembers = policy?.DuplicateMembers ?? options.DuplicateMembers,
        IgnoreClientNoCache = policy?.IgnoreClientNoCache ?? options.IgnoreClientNoCache,
        IgnoreClientNoStore = policy?.IgnoreClientNoStore ?? options.IgnoreClientNoStore,
        SendAge = policy?.SendAge ?? options.SendAge,
    };
}
