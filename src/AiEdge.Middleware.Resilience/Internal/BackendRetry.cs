using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.Timeout;

namespace AiEdge.Middleware.Resilience.Internal;

/// <summary>
/// The pipeline of the resilience handler (<c>Microsoft.Extensions.Http.Resilience</c>) of a backend pool's client:
/// a total timeout over every attempt and delay, then retries that cannot double-spend. A call is retried only when
/// it failed before any byte of an answer was returned (the handler returns at the response headers, so a body that
/// breaks later is never sent again), when the failure is one its replica's breaker counts (a transport error, an
/// attempt timeout, a 5xx or 408), and when sending it again is safe: an idempotent method (GET, HEAD, OPTIONS, PUT,
/// DELETE), a request marked with <see cref="BackendRequestOptions.Idempotent"/>, or one carrying an
/// <c>Idempotency-Key</c> header (the backend deduplicates it). The backend's <c>Retry-After</c> is not waited
/// for: the retry goes to another replica.
/// </summary>
internal static class BackendRetry
{
    /// <summary>The header that makes a POST safe to send again.</summary>
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>Builds the pipeline from the pool's breaker settings, on the application's clock.</summary>
    public static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> pipeline, BreakerOptions settings, TimeProvider time)
    {
        pipeline.TimeProvider = time;
        pipeline.AddTimeout(new TimeoutStrategyOptions { Timeout = settings.TotalTimeout, Name = "AiEdge.TotalTimeout" });
        if (settings.MaxRetryAttempts > 0)
        {
            pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                Name = "AiEdge.SafeRetry",
                MaxRetryAttempts = settings.MaxRetryAttempts,
                Delay = settings.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldRetryAfterHeader = false,
                ShouldHandle = static args => ValueTask.FromResult(IsSafe(args.Context.GetRequestMessage()) && Circuit.IsHttpFailure(args.Outcome)),
                OnRetry = static args =>
                {
                    // The failed answer's body holds its replica's lease until disposed.
                    args.Outcome.Result?.Dispose();
                    return default;
                },
            });
        }
    }

    /// <summary>Gets whether <paramref name="request"/> may be sent again without doing its work twice.</summary>
    public static bool IsSafe(HttpRequestMessage? request)
    {
        if (request is null)
        {
            return false;
        }

        if (request.Options.TryGetValue(BackendRequestOptions.Idempotent, out var marked))
        {
            return marked;
        }

        var method = request.Method;
        return method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Options
            || method == HttpMethod.Put || method == HttpMethod.Delete
            || request.Headers.Contains(IdempotencyKeyHeader);
    }
}
