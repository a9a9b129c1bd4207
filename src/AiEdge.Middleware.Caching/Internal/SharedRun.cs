using Microsoft.AspNetCore.Http.Features;

namespace AiEdge.Middleware.Caching.Internal;

/// <summary>
/// The run of the endpoint that the lock holder (the leader) does on behalf of every request coalesced onto it in this
/// process. The endpoint sees <see cref="RequestAborted"/> as its request's: it is cancelled only when nobody waits for
/// the answer any more, that is when the leader's client has gone and no follower waits (the last to leave cancels it,
/// at once). While followers wait, the run goes on without the leader's client, and its answer is stored for them.
/// </summary>
/// <remarks>
/// Runs are pooled (<see cref="Pool"/>): a miss allocates neither the run nor its cancellation source. A run goes back
/// to its pool once the leader has ended it and every follower that joined has left, with its cancellation source
/// reset (or replaced, when it was cancelled). As with the request's own token on a kept-alive Kestrel connection, a
/// token taken from <see cref="RequestAborted"/> is the request's only while the request runs.
/// </remarks>
internal sealed class SharedRun : IHttpRequestLifetimeFeature
{
    private readonly Lock _lock = new();
    private readonly Pool _pool;
    private CancellationTokenSource _cancel = new();
    private IHttpRequestLifetimeFeature? _leader;
    private CancellationToken _token;
    private CancellationTokenRegistration _leaderWatch;
    private int _waiters;
    private int _references;
    private bool _leaderGone;
    private bool _done;

    private SharedRun(Pool pool)
    {
        _pool = pool;
        _token = _cancel.Token;
    }

    /// <summary>Gets the token the endpoint sees: cancelled when the last client waiting for the run has gone.</summary>
    public CancellationToken RequestAborted
    {
        get => _token;
        set => _token = value;
    }

    /// <summary>Gets the followers waiting now.</summary>
    public int Waiters
    {
        get
        {
            lock (_lock)
            {
                return _waiters;
            }
        }
    }

    /// <summary>Gets whether the leader's own client has gone.</summary>
    public bool LeaderGone
    {
        get
        {
            lock (_lock)
            {
                return _leaderGone;
            }
        }
    }

    /// <summary>Aborts the leader's connection (what <see cref="IHttpRequestLifetimeFeature.Abort"/> does for the endpoint).</summary>
    public void Abort() => _leader?.Abort();

    /// <summary>A follower starts waiting for the run; false when the run is over or cancelled (nothing to wait for).</summary>
    public bool Join()
    {
        lock (_lock)
        {
            if (_done || _cancel.IsCancellationRequested)
            {
                return false;
            }

            _waiters++;
            _references++;
            return true;
        }
    }

    /// <summary>A follower stops waiting (answered, timed out or gone); the last one out after the leader cancels the run.</summary>
    public void Leave()
    {
        bool cancel;
        bool free;
        lock (_lock)
        {
            _waiters--;
            cancel = _leaderGone && _waiters == 0 && !_done;
            free = --_references == 0;
        }

        if (cancel)
        {
            _cancel.Cancel();
        }

        if (free)
        {
            _pool.Return(this);
        }
    }

    /// <summary>The run is over: nothing is cancelled any more, and the run is freed once its followers have left.</summary>
    public void Complete()
    {
        bool free;
        lock (_lock)
        {
            _done = true;
            free = --_references == 0;
        }

        _leaderWatch.Dispose();
        if (free)
        {
            _pool.Return(this);
        }
    }

    private void Start(IHttpRequestLifetimeFeature leader)
    {
        _leader = leader;
        _references = 1;
        _leaderWatch = leader.RequestAborted.UnsafeRegister(static state => ((SharedRun)state!).OnLeaderGone(), this);
    }

    private void Reset()
    {
        _leaderWatch = default;
        _leader = null;
        _waiters = 0;
        _leaderGone = false;
        _done = false;
        if (!_cancel.TryReset())
        {
            _cancel.Dispose();
            _cancel = new CancellationTokenSource();
        }

        _token = _cancel.Token;
    }

    private void OnLeaderGone()
    {
        bool cancel;
        lock (_lock)
        {
            _leaderGone = true;
            cancel = _waiters == 0 && !_done;
        }

        if (cancel)
        {
            _cancel.Cancel();
        }
    }

    /// <summary>
    /// The runs of one coalescer, kept for reuse: a bounded lock-free array (as Microsoft.Extensions.ObjectPool's
    /// default pool keeps its objects), so taking and returning allocate nothing.
    /// </summary>
    internal sealed class Pool
    {
        private readonly SharedRun?[] _items = new SharedRun?[Math.Clamp(Environment.ProcessorCount * 2, 8, 64)];

        /// <summary>Takes a run and starts it for <paramref name="leader"/>.</summary>
        public SharedRun Rent(IHttpRequestLifetimeFeature leader)
        {
            var items = _items;
            SharedRun? run = null;
            for (var i = 0; i < items.Length; i++)
            {
                run = items[i];
                if (run is not null && Interlocked.CompareExchange(ref items[i], null, run) == run)
                {
                    break;
                }

                run = null;
            }

            run ??= new SharedRun(this);
            run.Start(leader);
            return run;
        }

        /// <summary>Keeps a run nobody refers to any more; drops it when the pool is full.</summary>
        public void Return(SharedRun run)
        {
            run.Reset();
            var items = _items;
            for (var i = 0; i < items.Length; i++)
            {
                if (items[i] is null && Interlocked.CompareExchange(ref items[i], run, null) is null)
                {
                    return;
                }
            }
        }
    }
}
