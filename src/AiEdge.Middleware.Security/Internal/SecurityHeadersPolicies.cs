using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace AiEdge.Middleware.Security.Internal;

/// <summary>The default and named policies, compiled once into header arrays for plain HTTP and for HTTPS.</summary>
internal sealed class SecurityHeadersPolicies
{
    private readonly Dictionary<string, CompiledSecurityHeaders> _named = new(StringComparer.Ordinal);

    public SecurityHeadersPolicies(IOptions<SecurityHeadersOptions> options)
    {
        var value = options.Value;
        Enabled = value.Enabled;
        Default = new CompiledSecurityHeaders(BuildDefault(value));
        foreach (var (name, policy) in value.Policies)
        {
            _named[name] = new CompiledSecurityHeaders(policy);
        }
    }

    public bool Enabled { get; }

    public CompiledSecurityHeaders Default { get; }

    public CompiledSecurityHeaders? Find(string name) => _named.GetValueOrDefault(name);

    public bool Contains(string name) => _named.ContainsKey(name);

    /// <summary>The default policy: the API preset with the configured values.</summary>
    public static SecurityHeadersPolicy BuildDefault(SecurityHeadersOptions options)
    {
        var builder = new SecurityHeadersPolicyBuilder();
        Set(builder, "X-Content-Type-Options", options.ContentTypeOptions);
        Set(builder, "X-Frame-Options", options.FrameOptions);
        Set(builder, "Referrer-Policy", options.ReferrerPolicy);
        Set(builder, "Content-Security-Policy", options.ContentSecurityPolicy);
        Set(builder, "Cross-Origin-Opener-Policy", options.CrossOriginOpenerPolicy);
        Set(builder, "Cross-Origin-Resource-Policy", options.CrossOriginResourcePolicy);
        Set(builder, "Permissions-Policy", options.PermissionsPolicy);
        Set(builder, "Strict-Transport-Security", options.StrictTransportSecurity);
        foreach (var (name, value) in options.CustomHeaders)
        {
            Set(builder, name, value);
        }

        if (options.RemoveServerHeader)
        {
            builder.RemoveServerHeader();
        }

        return builder.Build();
    }

    private static void Set(SecurityHeadersPolicyBuilder builder, string name, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            builder.OmitHeader(name);
        }
        else
        {
            builder.AddCustomHeader(name, value);
        }
    }
}

/// <summary>One policy as arrays ready to copy into a response, with and without HSTS.</summary>
internal sealed class CompiledSecurityHeaders
{
    public CompiledSecurityHeaders(SecurityHeadersPolicy policy)
    {
        Http = new HeaderSet(policy, https: false);
        Https = policy.StrictTransportSecurity is null ? Http : new HeaderSet(policy, https: true);
    }

    public HeaderSet Http { get; }

    public HeaderSet Https { get; }
}

/// <summary>The headers to set and remove, precomputed.</summary>
internal sealed class HeaderSet
{
    private readonly string[] _names;
    private readonly StringValues[] _values;
    private readonly string[] _removed;

    public HeaderSet(SecurityHeadersPolicy policy, bool https)
    {
        var count = policy.HeadersArray.Length + (https ? 1 : 0);
        _names = new string[count];
        _values = new StringValues[count];
        for (var i = 0; i < policy.HeadersArray.Length; i++)
        {
            _names[i] = policy.HeadersArray[i].Key;
            _values[i] = new StringValues(policy.HeadersArray[i].Value);
        }

        if (https)
        {
            _names[^1] = "Strict-Transport-Security";
            _values[^1] = new StringValues(policy.StrictTransportSecurity);
        }

        _removed = policy.RemovedHeadersArray;
        ApplyOnStarting = state =>
        {
            Apply(((HttpContext)state).Response.Headers);
            return Task.CompletedTask;
        };
    }

    /// <summary>Gets the response-starting callback that applies this set (its state is the <see cref="HttpContext"/>), made once so that registering it allocates nothing.</summary>
    public Func<object, Task> ApplyOnStarting { get; }

    public void Apply(IHeaderDictionary headers)
    {
        var names = _names;
        var values = _values;
        for (var i = 0; i < names.Length; i++)
        {
            headers[names[i]] = values[i];
        }

        foreach (var name in _removed)
        {
            headers.Remove(name);
        }
    }
}
