using AiEdge.Middleware.Resilience;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace AiEdge.Middleware.ReverseProxy.Internal;

/// <summary>
/// The circuit breaker of one YARP destination: a Polly breaker fed with the outcome of every proxied call after
/// the fact. Opening it marks the destination passively unhealthy for the break (YARP then stops choosing it);
/// a backend's <c>Retry-After</c> on a 429 or 503 cools the destination down the same way for that long.
/// </summary>
internal sealed partial class DestinationBreaker
{
    private readonly object _lock = new();
    private readonly ResiliencePipeline<bool> _pipeline;
    private readonly IDestinationHealthUpdater _health;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _breakDuration;
    private DateTimeOffset _unavailableUntil;
    private CircuitState _state = CircuitState.Closed;

    public DestinationBreaker(ClusterState cluster, DestinationState destination, BreakerOptions options, IDestinationHealthUpdater health, TimeProvider time, ILogger logger)
    {
        Cluster = cluster;
        Destination = destination;
        _health = health;
        _time = time;
        _logger = logger;
        _breakDuration = options.BreakDuration;
        _pipeline = new ResiliencePipelineBuilder<bool> { TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<bool>
            {
                FailureRatio = options.FailureRatio,
                MinimumThroughput = options.MinimumThroughput,
                SamplingDuration = options.SamplingDuration,
                BreakDuration = options.BreakDuration,
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Result is false),
                OnOpened = args => OnOpened(args.BreakDuration),
                OnClosed = _ => OnChanged(CircuitState.Closed),
                OnHalfOpened = _ => OnChanged(CircuitState.HalfOpen),
            })
            .Build();
    }

    public ClusterState Cluster { get; }

    public DestinationState Destination { get; }

    /// <summary>Gets the breaker's state.</summary>
    public CircuitState State
    {
        get
        {
            lock (_lock)
            {
                return _state;
            }
        }
    }

    /// <summary>Gets how long the destination stays out (break or cool-down); zero when it is not out.</summary>
    public TimeSpan Remaining(DateTimeOffset now)
    {
        lock (_lock)
        {
            var left = _unavailableUntil - now;
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
    }

    /// <summary>Records the outcome of one proxied call (a refused call while open is ignored).</summary>
    public void Record(bool success)
    {
        var context = ResilienceContextPool.Shared.Get();
        try
        {
            // Completes synchronously: the callback returns a finished outcome and the breaker has no async work.
            _ = _pipeline.ExecuteOutcomeAsync(static (_, ok) => ValueTask.FromResult(Outcome.FromResult(ok)), context, success)
                .AsTask().GetAwaiter().GetResult();
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>
    /// Keeps the destination out until <paramref name="until"/> (a backend's <c>Retry-After</c>, seen here or by
    /// another replica); an earlier end than the one in force changes nothing.
    /// </summary>
    public void CoolDownUntil(DateTimeOffset until)
    {
        TimeSpan period;
        lock (_lock)
        {
            if (until <= _unavailableUntil)
            {
                return;
            }

            _unavailableUntil = until;
            period = until - _time.GetUtcNow();
        }

        if (period <= TimeSpan.Zero)
        {
            return;
        }

        _health.SetPassive(Cluster, Destination, DestinationHealth.Unhealthy, period);
        Log.CooledDown(_logger, Cluster.ClusterId, Destination.DestinationId, (int)Math.Ceiling(period.TotalSeconds));
    }

    private ValueTask OnOpened(TimeSpan breakDuration)
    {
        var period = breakDuration > TimeSpan.Zero && breakDuration != TimeSpan.MaxValue ? breakDuration : _breakDuration;
        lock (_lock)
        {
            _state = CircuitState.Open;
            var until = _time.GetUtcNow() + period;
            if (until > _unavailableUntil)
            {
                _unavailableUntil = until;
            }
        }

        _health.SetPassive(Cluster, Destination, DestinationHealth.Unhealthy, period);
        Log.Opened(_logger, Cluster.ClusterId, Destination.DestinationId, (int)Math.Ceiling(period.TotalSeconds));
        return ValueTask.CompletedTask;
    }

    private ValueTask OnChanged(CircuitState state)
    {
        lock (_lock)
        {
            _state = state;
        }

        if (state == CircuitState.Closed)
        {
            _health.SetPassive(Cluster, Destination, DestinationHealth.Healthy, TimeSpan.Zero);
            Log.Closed(_logger, Cluster.ClusterId, Destination.DestinationId);
        }

        return ValueTask.CompletedTask;
    }

    private static partial class Log
    {
        [LoggerMessage(2304, LogLevel.Warning, "Circuit breaker of destination {Cluster}/{Destination} opened; the destination is out for {Seconds} s.", EventName = "DestinationBreakerOpened")]
        public static partial void Opened(ILogger logger, string cluster, string destination, int seconds);

        [LoggerMessage(2305, LogLevel.Information, "Circuit breaker of destination {Cluster}/{Destination} closed.", EventName = "DestinationBreakerClosed")]
        public static partial void Closed(ILogger logger, string cluster, string destination);

        [LoggerMessage(2306, LogLevel.Information, "Destination {Cluster}/{Destination} asked to be left alone (Retry-After); it is out for {Seconds} s.", EventName = "DestinationCooledDown")]
        public static partial void CooledDown(ILogger logger, string cluster, string destination, int seconds);
    }
}
