namespace AiEdge.Middleware.Authentication;

/// <summary>API-key authentication settings: where keys are read from and the keys themselves, stored as hashes.</summary>
public sealed class EdgeApiKeyOptions
{
    /// <summary>Gets or sets the request header carrying an API key.</summary>
    /// <value>Defaults to <c>X-API-Key</c>. Configuration key: <c>AiEdge:Authentication:ApiKeys:HeaderName</c>.</value>
    public string HeaderName { get; set; } = EdgeAuthenticationDefaults.ApiKeyHeaderName;

    /// <summary>Gets or sets whether an API key is also accepted as <c>Authorization: Bearer &lt;key&gt;</c>.</summary>
    /// <value>Defaults to <see langword="true"/>. A bearer value shaped like a JWT (three dot-separated parts) is never
    /// claimed by API keys when any other scheme could validate it (AiEdge JWT or a scheme of the app): it is not a
    /// known key, so the API-key scheme answers "no result" and the token is judged by the other schemes.
    /// Configuration key: <c>AiEdge:Authentication:ApiKeys:AcceptBearer</c>.</value>
    public bool AcceptBearer { get; set; } = true;

    /// <summary>Gets or sets the longest API key accepted, in characters; longer values are refused without hashing.</summary>
    /// <value>Defaults to 256. Configuration key: <c>AiEdge:Authentication:ApiKeys:MaxKeyLength</c>.</value>
    public int MaxKeyLength { get; set; } = 256;

    /// <summary>
    /// Gets the accepted keys by name. The name identifies the caller (it becomes the name-identifier claim, the
    /// rate-limit partition and the cache tenant); the key itself is never stored, only its SHA-256 hash.
    /// </summary>
    /// <value>Empty by default (API keys off). Configuration section: <c>AiEdge:Authentication:ApiKeys:Keys:{name}</c>.</value>
    public IDictionary<string, ApiKeyDefinition> Keys { get; } = new Dictionary<string, ApiKeyDefinition>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Adds a key by name from its hash (see <see cref="ApiKeyHasher.ComputeHash(string)"/>).</summary>
    /// <param name="name">The key's name, identifying the caller.</param>
    /// <param name="hash">The SHA-256 of the key, as 64 hexadecimal characters.</param>
    /// <param name="plan">The caller's plan (for rate-limit plans), or <see langword="null"/>.</param>
    /// <param name="scopes">The scopes the key grants.</param>
    /// <returns>These options.</returns>
    public EdgeApiKeyOptions Add(string name, string hash, string? plan = null, params string[] scopes)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(hash);
        ArgumentNullException.ThrowIfNull(scopes);
        var definition = new ApiKeyDefinition { Hash = hash, Plan = plan };
        definition.Scopes.AddRange(scopes);
        Keys[name] = definition;
        return this;
    }
}
