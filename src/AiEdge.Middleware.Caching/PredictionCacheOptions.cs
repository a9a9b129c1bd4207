namespace AiEdge.Middleware.Caching;

/// <summary>Options of the prediction cache, bound from <c>AiEdge:Caching</c>.</summary>
public sealed class PredictionCacheOptions
{
    /// <summary>Gets or sets how long a stored response is fresh.</summary>
    /// <value>Defaults to 5 minutes. Configuration key: <c>AiEdge:Caching:Duration</c>.</value>
    public TimeSpan Duration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Gets or sets the grace window after expiry in which the expired response is served (<c>X-Cache: STALE</c>)
    /// when the endpoint throws or answers 5xx (NGINX's <c>proxy_cache_use_stale error</c>). Zero disables it.
    /// </summary>
    /// <value>Defaults to 1 minute. Configuration key: <c>AiEdge:Caching:StaleIfError</c>.</value>
    public TimeSpan StaleIfError { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets the largest request body that is keyed; larger requests bypass the cache.</summary>
    /// <value>Defaults to 1 MiB. Configuration key: <c>AiEdge:Caching:MaxRequestBodySize</c>.</value>
    public long MaxRequestBodySize { get; set; } = 1024 * 1024;

    /// <summary>Gets or sets the largest response body that is stored; larger responses are served but not stored.</summary>
    /// <value>Defaults to 1 MiB. Configuration key: <c>AiEdge:Caching:MaxResponseBodySize</c>.</value>
    public long MaxResponseBodySize { get; set; } = 1024 * 1024;

    /// <summary>Gets or sets the bytes the in-memory cache may hold; least recently used entries are evicted beyond it.</summary>
    /// <value>Defaults to 64 MiB. Configuration key: <c>AiEdge:Caching:SizeLimit</c>.</value>
    public long SizeLimit { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// Gets or sets what requests without an authenticated caller do. Authenticated callers always get their own
    /// partition (their source-qualified <c>GetCallerId()</c> is part of the key), so two identities, of one source or
    /// of two, never share an entry. An identity that names no caller (a JWT without <c>sub</c>) counts as anonymous.
    /// </summary>
    /// <value>Defaults to <see cref="AnonymousCaching.Bypass"/>. Configuration key: <c>AiEdge:Caching:Anonymous</c>.</value>
    public AnonymousCaching Anonymous { get; set; } = AnonymousCaching.Bypass;

    /// <summary>Gets or sets what a JSON-typed body that does not parse does.</summary>
    /// <value>Defaults to <see cref="InvalidJsonHandling.HashRawBytes"/>. Configuration key: <c>AiEdge:Caching:InvalidJson</c>.</value>
    public InvalidJsonHandling InvalidJson { get; set; } = InvalidJsonHandling.HashRawBytes;

    /// <summary>
    /// Gets or sets what a JSON body whose objects repeat a member name does (after unescaping, compared as the
    /// application's JSON binding compares names: see <see cref="DuplicateJsonMembers"/>).
    /// </summary>
    /// <value>Defaults to <see cref="DuplicateJsonMembers.Reject"/>. Configuration key: <c>AiEdge:Caching:DuplicateMembers</c>.</value>
    public DuplicateJsonMembers DuplicateMembers { get; set; } = DuplicateJsonMembers.Reject;

    /// <summary>
    /// Gets the JSON body fields left out of the key, e.g. <c>user</c> or <c>request_id</c>: members of the root object
    /// only (a member of the same name deeper in the body stays in the key), matched after unescaping and compared
    /// as the application's JSON binding compares names (case-insensitively by default).
    /// </summary>
    /// <value>Empty by default. Configuration key: <c>AiEdge:Caching:ExcludedJsonFields</c>.</value>
    public IList<string> ExcludedJsonFields { get; } = [];

    /// <summary>Gets the request headers whose values are part of the key (e.g. a model-version header).</summary>
    /// <value>Empty by default. Configuration key: <c>AiEdge:Caching:VaryByHeaders</c>.</value>
    public IList<string> VaryByHeaders { get; } = [];

    /// <summary>Gets the query parameters whose values are part of the key; empty means the whole query string as sent.</summary>
    /// <value>Empty by default. Configuration key: <c>AiEdge:Caching:VaryByQuery</c>.</value>
    public IList<string> VaryByQuery { get; } = [];

    /// <summary>Gets or sets whether a client's <c>Cache-Control: no-cache</c> (skip the lookup, store the fresh answer) is ignored.</summary>
    /// <value>Defaults to <see langword="false"/>. Configuration key: <c>AiEdge:Caching:IgnoreClientNoCache</c>.</value>
    public bool IgnoreClientNoCache { get; set; }

    /// <summary>Gets or sets whether a client's <c>Cache-Control: no-store</c> (bypass the cache) is ignored.</summary>
    /// <value>Defaults to <see langword="false"/>. Configuration key: <c>AiEdge:Caching:IgnoreClientNoStore</c>.</value>
    public bool IgnoreClientNoStore { get; set; }

    /// <summary>
    /// Gets or sets whether answers from the cache (<c>X-Cache: HIT</c> and <c>X-Cache: STALE</c>) carry an <c>Age</c>
    /// field (RFC 9111, section 5.1) giving the seconds since the entry was stored. The cache runs inside the origin,
    /// like NGINX's <c>proxy_cache</c>, so by default it adds none: <c>X-Cache</c> already says an answer is a replay,
    /// and the <c>RateLimit</c> / <c>RateLimit-Policy</c> fields on it describe this request's own decision. A client
    /// following the RateLimit header fields draft ignores those fields on any response with a positive age, so
    /// turning this on makes such clients disregard the quota reported on cache answers. An <c>Age</c> written by the
    /// endpoint is never stored or replayed either way.
    /// </summary>
    /// <value>Defaults to <see langword="false"/>. Configuration key: <c>AiEdge:Caching:SendAge</c>.</value>
    public bool SendAge { get; set; }

    /// <summary>Gets or sets whether concurrent identical requests wait for the first one instead of running the endpoint (NGINX's <c>proxy_cache_lock</c>).</summary>
    /// <value>Defaults to <see langword="true"/>. Configuration key: <c>AiEdge:Caching:Coalescing</c>.</value>
    public bool Coalescing { get; set; } = true;

    /// <summary>Gets or sets how long a coalesced request waits before running the endpoint itself (NGINX's <c>proxy_cache_lock_timeout</c>).</summary>
    /// <value>Defaults to 30 seconds. Configuration key: <c>AiEdge:Caching:CoalescingTimeout</c>.</value>
    public TimeSpan CoalescingTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the event that marks an event stream as complete; only completed streams are stored.</summary>
    /// <value>Defaults to <c>data: [DONE]</c>. Configuration key: <c>AiEdge:Caching:StreamTerminalEvent</c>.</value>
    public string StreamTerminalEvent { get; set; } = "data: [DONE]";

    /// <summary>Gets or sets whether an <c>IDistributedCache</c> registered by the application is used as a second level.</summary>
    /// <value>Defaults to <see langword="true"/>. Configuration key: <c>AiEdge:Caching:UseDistributedCache</c>.</value>
    public bool UseDistributedCache { get; set; } = true;

    /// <summary>Gets the named policies endpoints may select.</summary>
    /// <value>Empty by default. Configuration key: <c>AiEdge:Caching:Policies:{name}</c>.</value>
    public IDictionary<string, PredictionCachePolicy> Policies { get; } = new Dictionary<string, PredictionCachePolicy>(StringComparer.OrdinalIgnoreCase);
}
