namespace AiEdge.Middleware.Resilience;

/// <summary>The settings of one circuit breaker and the timeouts and retries around it.</summary>
public sealed class BreakerOptions
{
    /// <summary>Gets or sets the failure ratio, within the sampling window, at or above which the breaker opens.</summary>
    /// <value>Defaults to <c>0.5</c>; from above 0 to 1. Configuration key: <c>...:FailureRatio</c>.</value>
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>Gets or sets how many calls the sampling window must hold before the ratio is considered.</summary>
    /// <value>Defaults to <c>10</c>; at least 2. Configuration key: <c>...:MinimumThroughput</c>.</value>
    public int MinimumThroughput { get; set; } = 10;

    /// <summary>Gets or sets the sliding window over which failures are counted.</summary>
    /// <value>Defaults to 30 seconds; at least 500 ms. Configuration key: <c>...:SamplingDuration</c> (e.g. <c>"00:00:30"</c>).</value>
    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets how long the breaker stays open. While open, calls are refused at once (503 with
    /// <c>Retry-After</c> equal to the remaining time); afterwards one probe call is let through (half-open), which
    /// closes the breaker when it succeeds and opens it again when it fails.
    /// </summary>
    /// <value>Defaults to 30 seconds; at least 500 ms. Configuration key: <c>...:BreakDuration</c>.</value>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets the timeout of one attempt. For backend calls it bounds the time to the response headers (a
    /// streamed body then flows for as long as it lasts); for in-process endpoints it cancels the token the endpoint
    /// sees as <c>HttpContext.RequestAborted</c>. A timed-out attempt counts as a failure and is answered 504.
    /// </summary>
    /// <value>Defaults to 30 seconds; from 10 ms to 24 hours. Configuration key: <c>...:AttemptTimeout</c>.</value>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the timeout of a backend call across every attempt and retry delay.</summary>
    /// <value>Defaults to 90 seconds; from 10 ms to 24 hours. Configuration key: <c>...:TotalTimeout</c>.</value>
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>
    /// Gets or sets how many times an idempotent backend call (GET, HEAD, OPTIONS, PUT, DELETE, or a request marked
    /// with <see cref="BackendRequestOptions.Idempotent"/>) is retried after a transient failure, each time on the
    /// least loaded available replica. Other calls are never retried. In-process endpoints are never retried.
    /// </summary>
    /// <value>Defaults to <c>2</c>; from 0 to 10. Configuration key: <c>...:MaxRetryAttempts</c>.</value>
    public int MaxRetryAttempts { get; set; } = 2;

    /// <summary>Gets or sets the base delay of the exponential, jittered backoff between retries.</summary>
    /// <value>Defaults to 200 ms; from 0 to 1 minute. Configuration key: <c>...:RetryDelay</c>.</value>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);
}
