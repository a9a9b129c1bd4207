namespace AiEdge.Middleware.Security;

/// <summary>
/// An immutable set of response headers, built once by a <see cref="SecurityHeadersPolicyBuilder"/> and applied
/// to every response of the endpoints that use it, errors and short-circuits included.
/// </summary>
public sealed class SecurityHeadersPolicy
{
    internal SecurityHeadersPolicy(KeyValuePair<string, string>[] headers, string? strictTransportSecurity, string[] removedHeaders)
    {
        HeadersArray = headers;
        StrictTransportSecurity = strictTransportSecurity;
        RemovedHeadersArray = removedHeaders;
    }

    /// <summary>Gets the headers set on every response, in the order they were added.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers => HeadersArray;

    /// <summary>Gets the <c>Strict-Transport-Security</c> value, sent only on HTTPS requests; <see langword="null"/> for none.</summary>
    public string? StrictTransportSecurity { get; }

    /// <summary>Gets the headers removed from every response (for example one an upstream or the app set).</summary>
    public IReadOnlyList<string> RemovedHeaders => RemovedHeadersArray;

    internal KeyValuePair<string, string>[] HeadersArray { get; }

    internal string[] RemovedHeadersArray { get; }
}
