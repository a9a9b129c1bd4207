using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Concurrency.Internal;

/// <summary>
/// Keeps the leases this replica holds alive: one timer, every third of the lease duration, renews every registered
/// lease in the store. Registering and unregistering reuse slots of one array, so holding a slot allocates nothing.
/// </summary>
internal sealed partial class LeaseRenewer : IDisposable
{
    private readonly object _lock = new();
    private readonly IConcurrencyStore _store;
    private readonly TimeSpan _leaseDuration;
    private readonly ILogger _logger;
    private readonly ITimer _timer;
    private Entry[] _entries = new Entry[16];
    private int[] _free = new int[16];
    private int _freeCount;
    private int _used;
    private Entry[] _scratch = new Entry[16];
    private int _renewing;

    public LeaseRenewer(IConcurrencyStore store, IOptions<ConcurrencyOptions> options, TimeProvider time, ILogger<LeaseRenewer> logger)
    {
        _store = store;
        _leaseDuration = options.Value.LeaseDuration;
        _logger = logger;
        var period = _leaseDuration / 3;
        _timer = time.CreateTimer(static state => ((LeaseRenewer)state!).Tick(), this, period, period);
    }

    /// <summary>Registers a held lease; returns the handle to unregister it with.</summary>
    public int Register(string tier, string key, long leaseId)
    {
        lock (_lock)
        {
            int index;
            if (_freeCount > 0)
            {
                index = _free[--_freeCount];
            }
            else
            {
                if (_used == _entries.Length)
                {
                    Array.Resize(ref _entries, _used * 2);
                    Array.Resize(ref _free, _used * 2);
                }

                index = _used++;
            }

            _entries[index] = new Entry(tier, key, leaseId);
            return index;
        }
    }

    public void Unregister(int handle)
    {
        lock (_lock)
        {
            _entries[handle] = default;
            _free[_freeCount++] = handle;
        }
    }

    public void Dispose() => _timer.Dispose();

    private void Tick()
    {
        if (Interlocked.Exchange(ref _renewing, 1) == 0)
        {
            _ = RenewAllAsync();
        }
    }

    private async Task RenewAllAsync()
    {
        try
        {
            int count;
            lock (_lock)
            {
                if (_scratch.Length < _used)
                {
                    _scratch = new Entry[_entries.Length];
                }

                count = 0;
                for (var i = 0; i < _used; i++)
                {
                    if (_entries[i].Key is not null)
                    {
                        _scratch[count++] = _entries[i];
                    }
                }
            }

            for (var i = 0; i < count; i++)
            {
                var entry = _scratch[i];
                try
                {
                    if (!await _store.RenewAsync(entry.Key!, entry.LeaseId, _leaseDuration, CancellationToken.None).ConfigureAwait(false) && IsRegistered(entry))
                    {
                        Log.LeaseLost(_logger, entry.Tier!);
                    }
                }
                catch (Exception exception)
                {
                    Log.RenewFailed(_logger, entry.Tier!, exception);
                }
            }

            Array.Clear(_scratch, 0, count);
        }
        finally
        {
            Volatile.Write(ref _renewing, 0);
        }
    }

    private bool IsRegistered(Entry entry)
    {
        lock (_lock)
        {
            for (var i = 0; i < _used; i++)
            {
                if (_entries[i].LeaseId == entry.LeaseId && string.Equals(_entries[i].Key, entry.Key, StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return false;
        }
    }

    private readonly record struct Entry(string? Tier, string? Key, long LeaseId);

    private static partial class Log
    {
        [LoggerMessage(2106, LogLevel.Warning, "A slot of concurrency tier {Tier} expired in the store before it was renewed; the tier may admit more than its limit until the request ends. Raise AiEdge:Concurrency:LeaseDuration if the store is slow.", EventName = "ConcurrencyLeaseLost")]
        public static partial void LeaseLost(ILogger logger, string tier);

        [LoggerMessage(2107, LogLevel.Warning, "Renewing a slot of concurrency tier {Tier} failed.", EventName = "ConcurrencyLeaseRenewFailed")]
        public static partial void RenewFailed(ILogger logger, string tier, Exception exception);
    }
}
