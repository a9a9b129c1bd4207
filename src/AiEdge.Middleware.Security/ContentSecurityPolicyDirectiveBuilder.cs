using System.Text;

namespace AiEdge.Middleware.Security;

/// <summary>The source list of one Content-Security-Policy directive.</summary>
public sealed class ContentSecurityPolicyDirectiveBuilder
{
    private readonly List<string> _sources = [];

    internal ContentSecurityPolicyDirectiveBuilder(string name) => Name = name;

    /// <summary>Gets the directive name, e.g. <c>script-src</c>.</summary>
    public string Name { get; }

    /// <summary>Allows nothing (<c>'none'</c>); it cannot be combined with other sources.</summary>
    /// <returns>The directive.</returns>
    public ContentSecurityPolicyDirectiveBuilder None() => AddSource("'none'");

    /// <summary>Allows the page's own origin (<c>'self'</c>).</summary>
    /// <returns>The directive.</returns>
    public ContentSecurityPolicyDirectiveBuilder Self() => AddSource("'self'");

    /// <summary>Allows inline code or styles (<c>'unsafe-inline'</c>); avoid where possible.</summary>
    /// <returns>The directive.</returns>
    public ContentSecurityPolicyDirectiveBuilder UnsafeInline() => AddSource("'unsafe-inline'");

    /// <summary>Allows <c>eval</c> and similar (<c>'unsafe-eval'</c>); avoid where possible.</summary>
    /// <returns>The directive.</returns>
    public ContentSecurityPolicyDirectiveBuilder UnsafeEval() => AddSource("'unsafe-eval'");

    /// <summary>Trusts scripts loaded by already trusted scripts (<c>'strict-dynamic'</c>).</summary>
    /// <returns>The directive.</returns>
    public ContentSecurityPolicyDirectiveBuilder StrictDynamic() => AddSource("'strict-dynamic'");

    /// <summary>Allows <c>data:</c> URLs.</summary>
    /// <returns>The directive.</returns>
    public ContentSecurityPolicyDirectiveBuilder Data() => AddSource("data:");

    /// <summary>Allows <c>blob:</c> URLs.</summary>
    /// <returns>The directive.</returns>
    public ContentSecurityPolicyDirectiveBuilder Blob() => AddSource("blob:");

    /// <summary>Allows an inline script or style whose SHA-256 digest is <paramref name="base64Digest"/>.</summary>
    /// <param name="base64Digest">The base64 SHA-256 digest of the inline content.</param>
    /// <returns>The directive.</returns>
    public ContentSecurityPolicyDirectiveBuilder Sha256(string base64Digest)
    {
        ArgumentException.ThrowIfNullOrEmpty(base64Digest);
        Span<byte> buffer = stackalloc byte[64];
        if (!Convert.TryFromBase64String(base64Digest, buffer, out var written) || written != 32)
        {
            throw new ArgumentException("The digest must be a base64 SHA-256 value.", nameof(base64Digest));
        }

        return AddSource("'sha256-" + base64Digest + "'");
    }

    /// <summary>Allows a host or scheme source, e.g. <c>https://cdn.example.com</c>, <c>*.example.com</c> or <c>https:</c>.</summary>
    /// <param name="source">The source expression, without quotes, spaces, commas or semicolons.</param>
    /// <returns>The directive.</returns>
    /// <exception cref="ArgumentException">The source could break out of the directive.</exception>
    public ContentSecurityPolicyDirectiveBuilder From(string source)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        foreach (var c in source)
        {
            if (c is <= ' ' or >= (char)0x7F or ';' or ',' or '\'' or '"')
            {
                throw new ArgumentException($"\"{source}\" is not a Content-Security-Policy source: no quotes, whitespace, commas, semicolons or control characters.", nameof(source));
            }
        }

        return AddSource(source);
    }

    internal void WriteTo(StringBuilder text)
    {
        text.Append(Name);
        foreach (var source in _sources)
        {
            text.Append(' ').Append(source);
        }
    }

    private ContentSecurityPolicyDirectiveBuilder AddSource(string source)
    {
        if (_sources.Contains("'none'") || (source == "'none'" && _sources.Count > 0))
        {
            throw new InvalidOperationException($"'none' cannot be combined with other sources in {Name}.");
        }

        if (!_sources.Contains(source))
        {
            _sources.Add(source);
        }

        return this;
    }
}
