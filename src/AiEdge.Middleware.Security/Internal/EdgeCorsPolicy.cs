using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Security.Internal;

/// <summary>The ASP.NET Core <see cref="CorsPolicy"/> built once from <see cref="EdgeCorsOptions"/>, with the safe origin matcher.</summary>
internal sealed class EdgeCorsPolicy
{
    public EdgeCorsPolicy(IOptions<EdgeCorsOptions> options)
    {
        var value = options.Value;
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
