using AiEdge.Middleware.Security.Internal;

namespace AiEdge.Middleware.Security;

/// <summary>
/// Builds a <see cref="SecurityHeadersPolicy"/> from fine-grained verbs whose names say the value they set
/// (<c>AddFrameOptionsDeny()</c>), or from the API preset <see cref="SecurityHeadersPolicyBuilderExtensions.AddDefaultApiSecurityHeaders"/>.
/// Adding a header that is already present replaces its value.
/// </summary>
public sealed class SecurityHeadersPolicyBuilder
{
    private readonly List<KeyValuePair<string, string>> _headers = [];
    private readonly List<string> _removed = [];
    private string? _strictTransportSecurity;

    /// <summary>Sets <paramref name="name"/> to <paramref name="value"/> on every response.</summary>
    /// <param name="name">The header name.</param>
    /// <param name="value">The header value: visible ASCII, no CR or LF.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The name is not a token or the value holds control characters.</exception>
    public SecurityHeadersPolicyBuilder AddCustomHeader(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        HeaderValues.CheckName(name, nameof(name));
        HeaderValues.CheckValue(value, nameof(value));
        if (string.Equals(name, "Strict-Transport-Security", StringComparison.OrdinalIgnoreCase))
        {
            _strictTransportSecurity = value;
            return this;
        }

        RemoveFrom(_headers, name);
        _removed.Remove(name);
        _headers.Add(new(name, value));
        return this;
    }

    /// <summary>Removes <paramref name="name"/> from every response, and from this policy if it was added.</summary>
    /// <param name="name">The header name.</param>
    /// <returns>The builder.</returns>
    public SecurityHeadersPolicyBuilder RemoveHeader(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        HeaderValues.CheckName(name, nameof(name));
        if (string.Equals(name, "Strict-Transport-Security", StringComparison.OrdinalIgnoreCase))
        {
            _strictTransportSecurity = null;
        }

        RemoveFrom(_headers, name);
        if (!_removed.Exists(r => string.Equals(r, name, StringComparison.OrdinalIgnoreCase)))
        {
            _removed.Add(name);
        }

        return this;
    }

    /// <summary>Stops sending <paramref name="name"/> without removing it from responses (undoes an <c>Add*</c> verb).</summary>
    /// <param name="name">The header name.</param>
    /// <returns>The builder.</returns>
    public SecurityHeadersPolicyBuilder OmitHeader(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (string.Equals(name, "Strict-Transport-Security", StringComparison.OrdinalIgnoreCase))
        {
            _strictTransportSecurity = null;
        }

        RemoveFrom(_headers, name);
        return this;
    }

    /// <summary>Builds the immutable policy.</summary>
    /// <returns>The policy.</returns>
    public SecurityHeadersPolicy Build() => new([.. _headers], _strictTransportSecurity, [.. _removed]);

    private static void RemoveFrom(List<KeyValuePair<string, string>> headers, string name)
        => headers.RemoveAll(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase));
}
