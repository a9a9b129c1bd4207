using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Health.Internal;

/// <summary>
/// Runs the readiness checks at most once per <see cref="EdgeHealthOptions.CacheDuration"/>: probes arriving while
/// a run is in progress await it, probes arriving within the duration after it reuse its report. The shared run
/// is not cancelled by any one probe going away; each probe stops waiting when its own request is aborted.
/// </summary>
/// <remarks>
/// It is the <see cref="HealthCheckService"/> of the readiness endpoint only (ASP.NET Core's
/// <c>HealthCheckMiddleware</c> runs it there); the application's own <see cref="HealthCheckService"/> is untouched.
/// The checks that count are chosen here, by <see cref="Predicate"/>, once for every probe.
/// </remarks>
internal sealed class ReadinessCache : HealthCheckService
{
    private readonly object _lock = new();
    private readonly HealthCheckService _health;
    private readonly TimeProvider _time;
    private readonly TimeSpan _duration;
    private readonly Func<HealthCheckRegistration, bool>? _predicate;
    private Task<HealthReport>? _last;
    private long _lastAt;
    private Task<HealthReport>? _running;

    public ReadinessCache(HealthCheckService health, IOptions<EdgeHealthOptions> options, TimeProvider time)
    {
        _health = health;
        _time = time;
        var value = options.Value;
        _duration = value.CacheDuration;
        if (value.ReadinessTags.Count > 0)
        {
            var tags = value.ReadinessTags.ToArray();
            _predicate = registration =>
            {
                foreach (var tag in tags)
                {
                    if (registration.Tags.Contains(tag))
                    {
                        return true;
                    }
                }

                return false;
            };
        }
    }

    /// <summary>Gets the checks that count for readiness: every check, or those carrying a readiness tag.</summary>
    public Func<HealthCheckRegistration, bool>? Predicate => _predicate;

    /// <summary>Answers with the shared report; <paramref name="predicate"/> is ignored (see <see cref="Predicate"/>).</summary>
    public override Task<HealthReport> CheckHealthAsync(Func<HealthCheckRegistration, bool>? predicate, CancellationToken cancellationToken = default)
        => GetAsync().WaitAsync(cancellationToken);

    public Task<HealthReport> GetAsync()
    {
        TaskCompletionSource<HealthReport> run;
        lock (_lock)
        {
            if (_last is not null && _duration > TimeSpan.Zero && _time.GetElapsedTime(_lastAt) < _duration)
            {
                return _last;
            }

            if (_running is not null)
            {
                return _running;
            }

            run = new TaskCompletionSource<HealthReport>(TaskCreationOptions.RunContinuationsAsynchronously);
            _running = run.Task;
        }

        return RunAsync(run);
    }

    private async Task<HealthReport> RunAsync(TaskCompletionSource<HealthReport> run)
    {
        try
        {
            var report = await _health.CheckHealthAsync(_predicate, CancellationToken.None).ConfigureAwait(false);
            lock (_lock)
            {
                _last = run.Task;
                _lastAt = _time.GetTimestamp();
                _running = null;
            }

            run.SetResult(report);
            return report;
        }
        catch (Exception exception)
        {
            lock (_lock)
            {
                _running = null;
            }

            run.SetException(exception);
            throw;
        }
    }
}
