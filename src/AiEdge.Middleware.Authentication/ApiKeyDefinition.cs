namespace AiEdge.Middleware.Authentication;

/// <summary>One accepted API key: its hash and what it grants. Its name is its key in <see cref="EdgeApiKeyOptions.Keys"/>.</summary>
public sealed class ApiKeyDefinition
{
    /// <summary>Gets or sets the SHA-256 of the key as 64 hexadecimal characters (see <see cref="ApiKeyHasher.ComputeHash(string)"/>).</summary>
    /// <value>Required. Configuration key: <c>AiEdge:Authentication:ApiKeys:Keys:{name}:Hash</c>.</value>
    public string? Hash { get; set; }

    /// <summary>Gets or sets the caller's plan, e.g. <c>free</c> or <c>pro</c>, used to pick rate-limit plans.</summary>
    /// <value>Defaults to none. Configuration key: <c>AiEdge:Authentication:ApiKeys:Keys:{name}:Plan</c>.</value>
    public string? Plan { get; set; }

    /// <summary>Gets the scopes the key grants, e.g. <c>predict</c>.</summary>
    /// <value>Empty by default. Configuration key: <c>AiEdge:Authentication:ApiKeys:Keys:{name}:Scopes</c> (an array).</value>
    public List<string> Scopes { get; } = [];
}
