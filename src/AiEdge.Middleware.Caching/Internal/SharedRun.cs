using Microsoft.AspNetCore.Http.Features;

namespace AiEdge.Middleware.Caching.Internal;

/// <summary>
/// The run of the endpoint that the lock holder (the leader) does on behalf of every request coalesced onto it in this
/// process. The endpoint sees <see cref="RequestAborted"/> as its request's: it is cancelled only when nobody waits for
/// the answer any more, that is when the leader's client has gone and no follower waits (the last to leave cancels it,
/// at once). While followers wait, the run goes on without the leader's client, and its answer is stored for them.
/// </summary>
internal sealed class SharedRun : IHttpRequestLifetimeFeature
{
    private readonly object _lock = new();
    private readonly CancellationTokenSource _cancel = new();
    private readonly IHttpRequestLifetimeFeature _leader;
    private CancellationToken _token;
    private CancellationTokenRegistration _leaderWatch;
    private int _waiters;
    private bool _leaderGone;
    private bool _done;

    public SharedRun(IHttpRequestLifetimeFeature leader)
    {
        _leader = leader;
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
    public void Abort() => _leader.Abort();

    /// <summary>Watches the leader's own client.</summary>
    public void Start(CancellationToken leaderAborted)
        => _leaderWatch = leaderAborted.UnsafeRegister(static state => ((SharedRun)state!).OnLeaderGone(), this);

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
            return true;
        }
    }

    /// <summary>A follower stops waiting (answered, timed out or gone); the last one out after the leader cancels the run.</summary>
    public void Leave()
    {
        bool cancel;
        lock (_lock)
        {
            _waiters--;
            cancel = _leaderGone && _waiters == 0 && !_done;
        }

        if (cancel)
        {
            _cancel.Cancel();
        }
    }

    /// <summary>The run is over: nothing is cancelled any more.</summary>
    public void Complete()
    {
        lock (_lock)
        {
            _done = true;
        }

        _leaderWatch.Dispose();
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
}
