using System.Collections.Concurrent;

namespace AiEdge.Middleware.Internal;

/// <summary>The in-process <see cref="ICacheLock"/>: one entry per held key, a completion source to wake waiters.</summary>
internal sealed class InMemoryCacheLock(TimeProvider time) : ICacheLock
{
    private readonly ConcurrentDictionary<string, Holder> _holders = new(StringComparer.Ordinal);

    public ValueTask<bool> TryAcquireAsync(string key, string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var holder = new Holder(owner, now + lease);
        while (true)
        {
            if (_holders.TryAdd(key, holder))
            {
                return ValueTask.FromResult(true);
            }

            if (!_holders.TryGetValue(key, out var current))
            {
                continue;
            }

            if (current.ExpiresAt > now)
            {
                return ValueTask.FromResult(false);
            }

            // An expired holder: take its place and wake its waiters.
            if (_holders.TryUpdate(key, holder, current))
            {
                current.Released.TrySetResult();
                return ValueTask.FromResult(true);
            }
        }
    }

    public ValueTask ReleaseAsync(string key, string owner, CancellationToken cancellationToken)
    {
        if (_holders.TryGetValue(key, out var current)
            && string.Equals(current.Owner, owner, StringComparison.Ordinal)
            && _holders.TryRemove(new KeyValuePair<string, Holder>(key, current)))
        {
            current.Released.TrySetResult();
        }

        return ValueTask.CompletedTask;
    }

    public async ValueTask<bool> WaitAsync(string key, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!_holders.TryGetValue(key, out var current))
        {
            return true;
        }

        var remaining = current.ExpiresAt - time.GetUtcNow();
        var wait = remaining < timeout ? remaining : timeout;
        if (wait > TimeSpan.Zero)
        {
            await current.Released.Task.WaitAsync(wait, time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        cancellationToken.ThrowIfCancellationRequested();
        return current.Released.Task.IsCompleted || current.ExpiresAt <= time.GetUtcNow();
    }

    private sealed class Holder(string owner, DateTimeOffset expiresAt)
    {
        public string Owner { get; } = owner;

        public DateTimeOffset ExpiresAt { get; } = expiresAt;

        public TaskCompletionSource Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
