using System.Text;

namespace AiEdge.Middleware.Security;

/// <summary>
/// Builds a <c>Content-Security-Policy</c> value directive by directive, e.g.
/// <c>csp.AddDefaultSrc().Self(); csp.AddScriptSrc().Self().From("https://cdn.example.com"); csp.AddFrameAncestors().None();</c>.
/// Directives are written in the order they were first added; adding one again continues it.
/// </summary>
public sealed class ContentSecurityPolicyBuilder
{
    private readonly List<ContentSecurityPolicyDirectiveBuilder> _directives = [];

    /// <summary>Adds (or continues) the <c>default-src</c> directive.</summary>
    /// <returns>The directive's source list.</returns>
    public ContentSecurityPolicyDirectiveBuilder AddDefaultSrc() => AddDirective("default-src");

    /// <summary>Adds (or continues) the <c>script-src</c> directive.</summary>
    /// <returns>The directive's source list.</returns>
    public ContentSecurityPolicyDirectiveBuilder AddScriptSrc() => AddDirective("script-src");

    /// <summary>Adds (or continues) the <c>style-src</c> directive.</summary>
    /// <returns>The directive's source list.</returns>
    public ContentSecurityPolicyDirectiveBuilder AddStyleSrc() => AddDirective("style-src");

    /// <summary>Adds (or continues) the <c>img-src</c> directive.</summary>
    /// <returns>The directive's source list.</returns>
    public ContentSecurityPolicyDirectiveBuilder AddImgSrc() => AddDirective("img-src");

    /// <summary>Adds (or continues) the <c>connect-src</c> directive (fetch, XHR, EventSource, WebSocket targets).</summary>
    /// <returns>The directive's source list.</returns>
    public ContentSecurityPolicyDirectiveBuilder AddConnectSrc() => AddDirective("connect-src");

    /// <summary>Adds (or continues) the <c>font-src</c> directive.</summary>
    /// <returns>The directive's source list.</returns>
    public ContentSecurityPolicyDirectiveBuilder AddFontSrc() => AddDirective("font-src");

    /// <summary>Adds (or continues) the <c>object-src</c> directive.</summary>
    /// <returns>The directive's source list.</returns>
    public ContentSecurityPolicyDirectiveBuilder AddObjectSrc() => AddDirective("object-src");

    /// <summary>Adds (or continues) the <c>media-src</c> directive.</summary>
    /// <returns>The directive's source list.</returns>
    public ContentSecurityPolicyDirectiveBuilder AddMediaSrc() => AddDirective("media-src");

    /// <summary>Adds (or continues) the <c>frame-src</c> directive.</summary>
    /// <returns>The directive's source list.</returns>
    public ContentSecurityPolicyDirectiveBuilder AddFrameSrc() => AddDirective("frame-src");

    /// <summary>Adds (or continues) the <c>worker-src</c> directive.</summary>
    /// <returns>The directive's source list.</returns>
    public ContentSecurityPolicyDirectiveBuilder AddWorkerSrc() => AddDirective("worker-src");

    /// <summary>Adds (or continues) the <c>manifest-src</c> directive.</summary>
    /// <returns>The directive's source list.</returns>
    public ContentSecurityPolicyDirectiveBuilder AddManifestSrc() => AddDirective("manifest-src");

    /// <summary>Adds (or continues) the <c>frame-ancestors</c> directive (who may frame the page).</summary>
    /// <returns>The directive's source list.</returns>
    public ContentSecurityPolicyDirectiveBuilder AddFrameAncestors() => AddDirective("frame-ancestors");

    /// <summary>Adds (or continues) the <c>base-uri</c> directive.</summary>
    /// <returns>The directive's source list.</returns>
    public ContentSecurityPolicyDirectiveBuilder AddBaseUri() => AddDirective("base-uri");

    /// <summary>Adds (or continues) the <c>form-action</c> directive.</summary>
    /// <returns>The directive's source list.</returns>
    public ContentSecurityPolicyDirectiveBuilder AddFormAction() => AddDirective("form-action");

    /// <summary>Adds the value-less <c>upgrade-insecure-requests</c> directive.</summary>
    /// <returns>The builder.</returns>
    public ContentSecurityPolicyBuilder AddUpgradeInsecureRequests()
    {
        AddDirective("upgrade-insecure-requests");
        return this;
    }

    /// <summary>Adds (or continues) any directive by name, e.g. <c>script-src-elem</c>.</summary>
    /// <param name="name">The directive name: lowercase letters and dashes.</param>
    /// <returns>The directive's source list.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a directive name.</exception>
    public ContentSecurityPolicyDirectiveBuilder AddDirective(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        foreach (var c in name)
        {
            if (c is not ((>= 'a' and <= 'z') or '-'))
            {
                throw new ArgumentException($"\"{name}\" is not a Content-Security-Policy directive name.", nameof(name));
            }
        }

        foreach (var directive in _directives)
        {
            if (directive.Name == name)
            {
                return directive;
            }
        }

        var added = new ContentSecurityPolicyDirectiveBuilder(name);
        _directives.Add(added);
        return added;
    }

    /// <summary>Writes the policy, e.g. <c>default-src 'self'; frame-ancestors 'none'</c>.</summary>
    /// <returns>The header value.</returns>
    /// <exception cref="InvalidOperationException">No directive was added.</exception>
    public string Build()
    {
        if (_directives.Count == 0)
        {
            throw new InvalidOperationException("A Content-Security-Policy needs at least one directive.");
        }

        var text = new StringBuilder();
        foreach (var directive in _directives)
        {
            if (text.Length > 0)
            {
                text.Append("; ");
            }

            directive.WriteTo(text);
        }

        return text.ToString();
    }
}
