using System.Collections.Concurrent;
using AiEdge.Middleware.Resilience;

namespace AiEdge.Middleware.ReverseProxy.Internal;

/// <summary>
/// The default <see cref="IBackendCooldownStore"/>: the cool-downs of one replica, in memory. A backend's entries
/// that ended are dropped when it records the next one, so the store holds at most one entry per destination.
/// </summary>
internal sealed class InMemoryBackendCooldownStore(TimeProvider time) : IBackendCooldownStore
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, DateTimeOffset>> _backends = new(StringComparer.Ordinal);

    public ValueTask CoolDownAsync(string backend, string destination, DateTimeOffset until, CancellationToken cancellationToken = default)
    {
        var destinations = _backends.GetOrAdd(backend, static _ => new ConcurrentDictionary<string, DateTimeOffset>(StringComparer.Ordinal));
        destinations.AddOrUpdate(destination, static (_, later) => later, static (_, recorded, later) => later > recorded ? later : recorded, until);
        var now = time.GetUtcNow();
        foreach (var (name, end) in destinations)
        {
            if (end <= now)
            {
                destinations.TryRemove(new KeyValuePair<string, DateTimeOffset>(name, end));
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyDictionary<string, DateTimeOffset>> GetCooldownsAsync(string backend, CancellationToken cancellationToken = default)
        => ValueTask.FromResult<IReadOnlyDictionary<string, DateTimeOffset>>(
            _backends.TryGetValue(backend, out var destinations) ? destinations : Empty);

    private static readonly IReadOnlyDictionary<string, DateTimeOffset> Empty = new Dictionary<string, DateTimeOffset>();
}
