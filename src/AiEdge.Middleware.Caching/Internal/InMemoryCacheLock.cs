using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AiEdge.Middleware.Caching.Internal;

/// <summary>
/// The coalescing lock within one process: one entry per held key under one lock (no await inside it), a completion
/// source created only when someone waits, so an uncontended acquire and release allocate nothing. The lock of
/// <see cref="InMemoryPredictionCacheStore"/> and of the store over an app's <c>IDistributedCache</c>.
/// </summary>
/// <remarks>
/// Bounded by the requests in flight: an entry exists only while its holder runs (the middleware releases in a
/// <c>finally</c>), and a holder whose lease ended is replaced by the next acquirer of its key.
/// </remarks>
internal sealed class InMemoryCacheLock(TimeProvider time)
{
    private readonly Table<PredictionCacheKey, Guid> _held = new(time, null);

    /// <summary>Gets the number of keys held, for tests.</summary>
    public int HeldCount => _held.Count;

    /// <summary>Takes the lock on <paramref name="key"/> for <paramref name="owner"/>; <see langword="false"/> when someone else holds it.</summary>
    public bool TryAcquire(in PredictionCacheKey key, Guid owner, TimeSpan lease) => _held.TryAcquire(key, owner, lease);

    /// <summary>Releases the lock when <paramref name="owner"/> holds it and wakes the waiters; otherwise does nothing.</summary>
    public void Release(in PredictionCacheKey key, Guid owner) => _held.Release(key, owner);

    /// <summary>Waits until the lock on <paramref name="key"/> is released or expired, or <paramref name="timeout"/> passed.</summary>
    public ValueTask<bool> WaitAsync(in PredictionCacheKey key, TimeSpan timeout, CancellationToken cancellationToken)
        => _held.WaitAsync(key, timeout, cancellationToken);

    private sealed class Table<TKey, TOwner>(TimeProvider time, IEqualityComparer<TKey>? comparer)
        where TKey : notnull
        where TOwner : IEquatable<TOwner>
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<TKey, Holder> _holders = new(comparer);

        public int Count
        {
            get
            {
                lock (_lock)
                {
                    return _holders.Count;
                }
            }
        }

        public bool TryAcquire(TKey key, TOwner owner, TimeSpan lease)
        {
            var now = time.GetUtcNow();
            TaskCompletionSource? wake = null;
            lock (_lock)
            {
                ref var holder = ref CollectionsMarshal.GetValueRefOrAddDefault(_holders, key, out var exists);
                if (exists)
                {
                    if (holder.ExpiresAt > now)
                    {
                        return false;
                    }

                    // An expired holder: take its place and wake its waiters.
                    wake = holder.Released;
                }

                holder = new Holder(owner, now + lease);
            }

            wake?.TrySetResult();
            return true;
        }

        public void Release(TKey key, TOwner owner)
        {
            TaskCompletionSource? wake = null;
            lock (_lock)
            {
                ref var holder = ref CollectionsMarshal.GetValueRefOrNullRef(_holders, key);
                if (Unsafe.IsNullRef(ref holder) || !holder.Owner.Equals(owner))
                {
                    return;
                }

                wake = holder.Released;
                _holders.Remove(key);
            }

            wake?.TrySetResult();
        }

        public ValueTask<bool> WaitAsync(TKey key, TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                return ValueTask.FromCanceled<bool>(cancellationToken);
            }

            if (!TryGetWaitable(key, out var released, out var expiresAt))
            {
                return ValueTask.FromResult(true);
            }

            return WaitCoreAsync(released, expiresAt, timeout, cancellationToken);
        }

        private async ValueTask<bool> WaitCoreAsync(TaskCompletionSource released, DateTimeOffset expiresAt, TimeSpan timeout, CancellationToken cancellationToken)
        {
            var remaining = expiresAt - time.GetUtcNow();
            var wait = remaining < timeout ? remaining : timeout;
            if (wait > TimeSpan.Zero)
            {
                await released.Task.WaitAsync(wait, time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            cancellationToken.ThrowIfCancellationRequested();
            return released.Task.IsCompleted || expiresAt <= time.GetUtcNow();
        }

        private bool TryGetWaitable(TKey key, out TaskCompletionSource released, out DateTimeOffset expiresAt)
        {
            lock (_lock)
            {
                ref var holder = ref CollectionsMarshal.GetValueRefOrNullRef(_holders, key);
                if (Unsafe.IsNullRef(ref holder))
                {
                    released = null!;
                    expiresAt = default;
                    return false;
                }

                released = holder.Released ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                expiresAt = holder.ExpiresAt;
                return true;
            }
        }

        private struct Holder(TOwner owner, DateTimeOffset expiresAt)
        {
            public readonly TOwner Owner = owner;

            public readonly DateTimeOffset ExpiresAt = expiresAt;

            public TaskCompletionSource? Released;
        }
    }
}
