using AiEdge.Middleware.Internal;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace AiEdge.Middleware.Resilience.Internal;

/// <summary>
/// One circuit: a Polly circuit breaker (with its attempt timeout) around a backend replica or an in-process
/// model, plus what selection and readiness need to know without executing it: its state, when an open break ends,
/// the calls in flight and the verdict of active probes. State changes arrive through Polly's callbacks.
/// </summary>
internal sealed partial class Circuit
{
    private static readonly HttpRequestException BrokenStream = new("The backend broke the response body after its headers.");
    private readonly object _lock = new();
    private readonly TimeProvider _time;
    private readonly ResilienceMetrics _metrics;
    private readonly ILogger _logger;
    private CircuitState _state = CircuitState.Closed;
    private DateTimeOffset _openUntil;
    private int _outstanding;
    private int _probeFailures;
    private int _probeSuccesses;
    private volatile bool _probeHealthy = true;

    public Circuit(string breaker, string? replica, Uri? baseUri, int weight, Uri? healthUri, BreakerOptions options, TimeProvider time, ResilienceMetrics metrics, ILogger logger)
    {
        Breaker = breaker;
        Replica = replica;
        BaseUri = baseUri;
        Weight = weight;
        HealthUri = healthUri;
        DisplayName = replica is null ? breaker : breaker + "/" + replica;
        OpenDetail = "Circuit breaker '" + breaker + "' is open.";
        TimeoutDetail = "The model behind breaker '" + breaker + "' did not answer in time.";
        FailedDetail = "The model behind breaker '" + breaker + "' failed.";
        _time = time;
        _metrics = metrics;
        _logger = logger;

        HttpPipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }
            .AddCircuitBreaker(CreateBreakerOptions<HttpResponseMessage>(options, static args => ValueTask.FromResult(IsHttpFailure(args.Outcome))))
            .AddTimeout(options.AttemptTimeout)
            .Build();
        EndpointPipeline = new ResiliencePipelineBuilder<int> { TimeProvider = time }
            .AddCircuitBreaker(CreateBreakerOptions<int>(options, static args => ValueTask.FromResult(IsEndpointFailure(args.Outcome))))
            .AddTimeout(options.AttemptTimeout)
            .Build();
    }

    /// <summary>Gets the breaker's (or backend pool's) name, as measured and logged.</summary>
    public string Breaker { get; }

    /// <summary>Gets the replica's name within its pool; <see langword="null"/> for an in-process breaker.</summary>
    public string? Replica { get; }

    /// <summary>Gets <c>breaker</c> or <c>breaker/replica</c>.</summary>
    public string DisplayName { get; }

    /// <summary>Gets the problem detail of a refusal while open (built once).</summary>
    public string OpenDetail { get; }

    /// <summary>Gets the problem detail of a timeout (built once).</summary>
    public string TimeoutDetail { get; }

    /// <summary>Gets the problem detail of a failure (built once).</summary>
    public string FailedDetail { get; }

    /// <summary>Gets the replica's base URL, ending with a slash.</summary>
    public Uri? BaseUri { get; }

    /// <summary>Gets the replica's weight.</summary>
    public int Weight { get; }

    /// <summary>Gets the URL probed actively, if any.</summary>
    public Uri? HealthUri { get; }

    /// <summary>Gets the manual control of the breaker (a successful active probe closes it).</summary>
    public CircuitBreakerManualControl Control { get; } = new();

    /// <summary>Gets the pipeline for backend calls: breaker, then attempt timeout.</summary>
    public ResiliencePipeline<HttpResponseMessage> HttpPipeline { get; }

    /// <summary>Gets the pipeline for in-process endpoints; the result is the response status code.</summary>
    public ResiliencePipeline<int> EndpointPipeline { get; }

    /// <summary>Gets the calls in flight (streams until their body is disposed).</summary>
    public int Outstanding => Volatile.Read(ref _outstanding);

    /// <summary>Gets whether active probes consider the replica healthy (always true without probes).</summary>
    public bool ProbeHealthy => _probeHealthy;

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

    /// <summary>A call starts.</summary>
    public void Enter() => Interlocked.Increment(ref _outstanding);

    /// <summary>A call ended.</summary>
    public void Exit() => Interlocked.Decrement(ref _outstanding);

    /// <summary>
    /// Counts a response body that broke after its headers were counted as a success: one more failed outcome for
    /// the breaker (refused quietly when the breaker is open already).
    /// </summary>
    public async ValueTask RecordBrokenStreamAsync()
    {
        var context = ResilienceContextPool.Shared.Get();
        try
        {
            await HttpPipeline.ExecuteOutcomeAsync(static (_, _) => ValueTask.FromResult(Outcome.FromException<HttpResponseMessage>(BrokenStream)), context, 0)
                .ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>
    /// Gets whether a call may be sent: the breaker is closed, or open with its break over (the call becomes the
    /// half-open probe), and active probes do not hold the replica out.
    /// </summary>
    public bool IsAvailable(DateTimeOffset now)
    {
        if (!_probeHealthy)
        {
            return false;
        }

        lock (_lock)
        {
            return _state == CircuitState.Closed || (_state == CircuitState.Open && now >= _openUntil);
        }
    }

    /// <summary>Gets the time until the breaker lets a probe through; zero when it is not open or the break is over.</summary>
    public TimeSpan RemainingBreak(DateTimeOffset now)
    {
        lock (_lock)
        {
            if (_state == CircuitState.Isolated)
            {
                return TimeSpan.MaxValue;
            }

            return _state is CircuitState.Open or CircuitState.HalfOpen && _openUntil > now ? _openUntil - now : TimeSpan.Zero;
        }
    }

    /// <summary>Records an active probe's verdict; returns true when the replica just came back.</summary>
    public bool RecordProbe(bool success, int healthyThreshold, int unhealthyThreshold)
    {
        bool cameBack = false;
        bool wentDown = false;
        lock (_lock)
        {
            if (success)
            {
                _probeFailures = 0;
                if (!_probeHealthy && ++_probeSuccesses >= healthyThreshold)
                {
                    _probeHealthy = true;
                    _probeSuccesses = 0;
                    cameBack = true;
                }
            }
            else
            {
                _probeSuccesses = 0;
                if (_probeHealthy && ++_probeFailures >= unhealthyThreshold)
                {
                    _probeHealthy = false;
                    _probeFailures = 0;
                    wentDown = true;
                }
            }
        }

        if (wentDown)
        {
            Log.ProbeEjected(_logger, DisplayName, unhealthyThreshold);
        }
        else if (cameBack)
        {
            Log.ProbeRestored(_logger, DisplayName, healthyThreshold);
        }

        return cameBack;
    }

    /// <summary>Whether a backend call's outcome counts against the breaker (and may be retried).</summary>
    public static bool IsHttpFailure(Outcome<HttpResponseMessage> outcome)
        => outcome.Exception switch
        {
            null => outcome.Result is not BackendProblemResponse && IsFailureStatus((int)outcome.Result!.StatusCode),
            HttpRequestException or TimeoutRejectedException => true,
            _ => false,
        };

    /// <summary>Whether an in-process endpoint's outcome counts against the breaker.</summary>
    public static bool IsEndpointFailure(Outcome<int> outcome)
        => outcome.Exception switch
        {
            null => IsFailureStatus(outcome.Result),
            OperationCanceledException => false,
            { } exception => !AiEdgeClientErrors.TryGetStatusCode(exception, CancellationToken.None, out _),
        };

    private static bool IsFailureStatus(int status) => status >= 500 || status == 408;

    private CircuitBreakerStrategyOptions<T> CreateBreakerOptions<T>(BreakerOptions options, Func<CircuitBreakerPredicateArguments<T>, ValueTask<bool>> shouldHandle)
        => new()
        {
            Name = DisplayName,
            FailureRatio = options.FailureRatio,
            MinimumThroughput = options.MinimumThroughput,
            SamplingDuration = options.SamplingDuration,
            BreakDuration = options.BreakDuration,
            ManualControl = Control,
            ShouldHandle = shouldHandle,
            OnOpened = args =>
            {
                Opened(args.BreakDuration, args.IsManual, args.Outcome.Exception?.GetType().Name ?? StatusText(args.Outcome));
                return default;
            },
            OnHalfOpened = _ =>
            {
                Transition(CircuitState.HalfOpen, "half_open");
                return default;
            },
            OnClosed = _ =>
            {
                Transition(CircuitState.Closed, "closed");
                return default;
            },
        };

    private static string StatusText<T>(Outcome<T> outcome) => outcome.Result switch
    {
        HttpResponseMessage response => "HTTP " + ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture),
        int status => "HTTP " + status.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => "failure",
    };

    private void Opened(TimeSpan breakDuration, bool manual, string cause)
    {
        var isolated = manual && breakDuration == TimeSpan.MaxValue;
        lock (_lock)
        {
            _state = isolated ? CircuitState.Isolated : CircuitState.Open;
            _openUntil = breakDuration >= TimeSpan.FromDays(3650) ? DateTimeOffset.MaxValue : _time.GetUtcNow() + breakDuration;
        }

        _metrics.BreakerTransition(Breaker, isolated ? "isolated" : "open");
        Log.BreakerOpened(_logger, DisplayName, breakDuration.TotalSeconds, cause);
    }

    private void Transition(CircuitState state, string name)
    {
        lock (_lock)
        {
            _state = state;
        }

        _metrics.BreakerTransition(Breaker, name);
        if (state == CircuitState.Closed)
        {
            Log.BreakerClosed(_logger, DisplayName);
        }
        else
        {
            Log.BreakerHalfOpened(_logger, DisplayName);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1601, LogLevel.Warning, "Circuit breaker {Breaker} opened for {BreakSeconds} s after {Cause}.", EventName = "BreakerOpened")]
        public static partial void BreakerOpened(ILogger logger, string breaker, double breakSeconds, string cause);

        [LoggerMessage(1602, LogLevel.Information, "Circuit breaker {Breaker} is half-open: one probe call goes through.", EventName = "BreakerHalfOpened")]
        public static partial void BreakerHalfOpened(ILogger logger, string breaker);

        [LoggerMessage(1603, LogLevel.Information, "Circuit breaker {Breaker} closed.", EventName = "BreakerClosed")]
        public static partial void BreakerClosed(ILogger logger, string breaker);

        [LoggerMessage(1604, LogLevel.Warning, "Replica {Replica} taken out of rotation after {Failures} failed health probes.", EventName = "ProbeEjected")]
        public static partial void ProbeEjected(ILogger logger, string replica, int failures);

        [LoggerMessage(1605, LogLevel.Information, "Replica {Replica} back in rotation after {Successes} successful health probes.", EventName = "ProbeRestored")]
        public static partial void ProbeRestored(ILogger logger, string replica, int successes);
    }
}
