namespace AiEdge.Middleware.Concurrency;

/// <summary>The defaults of <see cref="ConcurrencyOptions"/>, <see cref="ConcurrencyTier"/> and <see cref="AdaptiveConcurrencyOptions"/>.</summary>
public static class ConcurrencyDefaults
{
    /// <summary>The status of a refusal by a tier without partition (the backend is full): 503 Service Unavailable, as NGINX's <c>limit_conn_status</c> default.</summary>
    public const int OverloadedStatusCode = 503;

    /// <summary>The status of a refusal by a partitioned tier (this caller has too many requests in flight): 429 Too Many Requests.</summary>
    public const int PartitionRejectionStatusCode = 429;

    /// <summary>How many higher-priority requests may be served ahead of a waiting lower-priority request before it is served.</summary>
    public const int StarvationLimit = 4;

    /// <summary>The longest a lease is held in the store without being renewed (a replica that dies frees its slots after it).</summary>
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(30);

    /// <summary>The longest a request waits in a tier's queue.</summary>
    public static readonly TimeSpan QueueTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The problem type of a refusal because the backend is at capacity.</summary>
    public const string OverloadedProblemType = "https://iana.org/assignments/http-problem-types#temporary-reduced-capacity";

    /// <summary>The problem type of a refusal because the caller's own requests in flight fill its partition.</summary>
    public const string PartitionProblemType = "https://iana.org/assignments/http-problem-types#quota-exceeded";

    /// <summary>The ratio of a window's latency to the uncongested latency above which an adaptive limit shrinks.</summary>
    public const double Tolerance = 1.25;

    /// <summary>The factor an adaptive limit is multiplied by when latency exceeds the tolerance.</summary>
    public const double BackoffRatio = 0.9;
}
