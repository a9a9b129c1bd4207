namespace AiEdge.Middleware.Caching;

/// <summary>
/// A named set of overrides of <see cref="PredictionCacheOptions"/> for the endpoints that select it with
/// <c>.WithPredictionCache("name")</c> or <c>[PredictionCache("name")]</c>. A property left <see langword="null"/>
/// takes the value of the options. Configuration: <c>AiEdge:Caching:Policies:{name}:*</c>.
/// </summary>
public sealed class PredictionCachePolicy
{
    /// <summary>Gets or sets how long a stored response is fresh.</summary>
    /// <value>Defaults to <see cref="PredictionCacheOptions.Duration"/>.</value>
    public TimeSpan? Duration { get; set; }

    /// <summary>Gets or sets the grace window after expiry in which a stale response is served when the endpoint fails.</summary>
    /// <value>Defaults to <see cref="PredictionCacheOptions.StaleIfError"/>.</value>
    public TimeSpan? StaleIfError { get; set; }

    /// <summary>Gets or sets the JSON body fields (members of the root object) left out of the key.</summary>
    /// <value>Defaults to <see cref="PredictionCacheOptions.ExcludedJsonFields"/>.</value>
    public IList<string>? ExcludedJsonFields { get; set; }

    /// <summary>Gets or sets the request headers whose values are part of the key.</summary>
    /// <value>Defaults to <see cref="PredictionCacheOptions.VaryByHeaders"/>.</value>
    public IList<string>? VaryByHeaders { get; set; }

    /// <summary>Gets or sets the query parameters whose values are part of the key; empty means the whole query string.</summary>
    /// <value>Defaults to <see cref="PredictionCacheOptions.VaryByQuery"/>.</value>
    public IList<string>? VaryByQuery { get; set; }

    /// <summary>Gets or sets what anonymous requests do.</summary>
    /// <value>Defaults to <see cref="PredictionCacheOptions.Anonymous"/>.</value>
    public AnonymousCaching? Anonymous { get; set; }

    /// <summary>Gets or sets what bodies that are not valid JSON do.</summary>
    /// <value>Defaults to <see cref="PredictionCacheOptions.InvalidJson"/>.</value>
    public InvalidJsonHandling? InvalidJson { get; set; }

    /// <summary>Gets or sets what bodies whose objects repeat a member name do.</summary>
    /// <value>Defaults to <see cref="PredictionCacheOptions.DuplicateMembers"/>.</value>
    public DuplicateJsonMembers? DuplicateMembers { get; set; }

    /// <summary>Gets or sets whether a client's <c>Cache-Control: no-cache</c> is ignored.</summary>
    /// <value>Defaults to <see cref="PredictionCacheOptions.IgnoreClientNoCache"/>.</value>
    public bool? IgnoreClientNoCache { get; set; }

    /// <summary>Gets or sets whether a client's <c>Cache-Control: no-store</c> is ignored.</summary>
    /// <value>Defaults to <see cref="PredictionCacheOptions.IgnoreClientNoStore"/>.</value>
    public bool? IgnoreClientNoStore { get; set; }

    /// <summary>Gets or sets whether answers from the cache carry an <c>Age</c> field.</summary>
    /// <value>Defaults to <see cref="PredictionCacheOptions.SendAge"/>.</value>
    public bool? SendAge { get; set; }
}
