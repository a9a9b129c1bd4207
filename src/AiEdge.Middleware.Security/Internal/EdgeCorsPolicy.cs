using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Security.Internal;

/// <summary>
/// The ASP.NET Core <see cref="CorsPolicy"/> built from <see cref="EdgeCorsOptions"/>, with the safe origin matcher;
/// rebuilt when the options reload and swapped in whole (a request reads <see cref="Current"/> once).
/// </summary>
internal sealed class EdgeCorsPolicy : IDisposable
{
    private readonly IDisposable? _subscription;
    private volatile EdgeCorsPolicySnapshot _current;

    public EdgeCorsPolicy(IOptionsMonitor<EdgeCorsOptions> options)
    {
        _current = new EdgeCorsPolicySnapshot(options.CurrentValue);
        _subscription = options.OnChange((value, name) =>
        {
            if (name is null || name == Options.DefaultName)
            {
                _current = new EdgeCorsPolicySnapshot(value);
            }
        });
    }

    /// <summary>Gets the policy in effect.</summary>
    public EdgeCorsPolicySnapshot Current => _current;

    public void Dispose() => _subscription?.Dispose();
}

/// <summary>One configuration's CORS policy and origin matcher; never changed once built.</summary>
internal sealed class EdgeCorsPolicySnapshot
{
    public EdgeCorsPolicySnapshot(EdgeCorsOptions value)
    {
        Matcher = new OriginMatcher(value.AllowedOrigins);
        var builder = new CorsPolicyBuilder();
        if (value.AllowAnyOrigin || Matcher.AllowsAny)
        {
            builder.AllowAnyOrigin();
        }
        else
        {
            // A predicate (not WithOrigins) so ASP.NET Core always answers Vary: Origin and our exact matcher decides.
            builder.SetIsOriginAllowed(Matcher.IsAllowed);
        }

        var methods = value.AllowedMethods.Count == 0 ? EdgeCorsOptions.DefaultMethods : [.. value.AllowedMethods];
        if (methods.Contains("*"))
        {
            builder.AllowAnyMethod();
        }
        else
        {
            builder.WithMethods([.. methods]);
        }

        var headers = value.AllowedHeaders.Count == 0 ? EdgeCorsOptions.DefaultHeaders : [.. value.AllowedHeaders];
        if (headers.Contains("*"))
        {
            builder.AllowAnyHeader();
        }
        else
        {
            builder.WithHeaders([.. headers]);
        }

        IReadOnlyList<string> exposed = value.ExposedHeaders.Count == 0 ? EdgeCorsOptions.DefaultExposedHeaders : [.. value.ExposedHeaders];
        builder.WithExposedHeaders([.. exposed]);
        if (value.AllowCredentials)
        {
            builder.AllowCredentials();
        }
        else
        {
            builder.DisallowCredentials();
        }

        if (value.PreflightMaxAgeSeconds > 0)
        {
            builder.SetPreflightMaxAge(TimeSpan.FromSeconds(value.PreflightMaxAgeSeconds));
        }

        Policy = builder.Build();
    }

    public CorsPolicy Policy { get; }

    public OriginMatcher Matcher { get; }
}
