using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Security.Internal;

/// <summary>Validates <see cref="EdgeCorsOptions"/>: well-formed origins, and never allow-everything with credentials.</summary>
internal sealed class EdgeCorsOptionsValidator : IValidateOptions<EdgeCorsOptions>
{
    private const string Section = "AiEdge:Cors";
    private const string CredentialsRisk = "cannot be combined with " + Section + ":AllowCredentials = true: any web site could call the API with its visitors' cookies and credentials. List the allowed origins explicitly";

    public ValidateOptionsResult Validate(string? name, EdgeCorsOptions options)
    {
        var failures = new List<string>();
        if (options.AllowAnyOrigin && options.AllowCredentials)
        {
            failures.Add($"{Section}:AllowAnyOrigin = true {CredentialsRisk}.");
        }

        for (var i = 0; i < options.AllowedOrigins.Count; i++)
        {
            var origin = options.AllowedOrigins[i];
            var key = $"{Section}:AllowedOrigins:{i}";
            switch (OriginMatcher.Classify(origin, out _, out _))
            {
                case OriginMatcher.OriginKind.Any when options.AllowCredentials:
                    failures.Add($"{key} \"{origin}\" allows every origin, which {CredentialsRisk}.");
                    break;
                case OriginMatcher.OriginKind.AnyOfScheme when options.AllowCredentials:
                    failures.Add($"{key} \"{origin}\" matches every origin, which {CredentialsRisk}.");
                    break;
                case OriginMatcher.OriginKind.AnyOfScheme:
                    failures.Add($"{key} \"{origin}\" matches every origin: write \"*\" to allow every origin, or list origins such as \"https://app.example.com\" or \"https://*.example.com\".");
                    break;
                case OriginMatcher.OriginKind.Null:
                    failures.Add($"{key} \"null\" cannot be allowed: it is the origin of sandboxed documents, local files and redirects, which any site can produce.");
                    break;
                case OriginMatcher.OriginKind.Invalid:
                    failures.Add($"{key} \"{origin}\" must be an origin such as \"https://app.example.com\" or \"http://localhost:5173\" (scheme, host and optional port; no path or trailing slash), a subdomain pattern such as \"https://*.example.com\", or \"*\".");
                    break;
            }
        }

        CheckTokens(failures, "AllowedMethods", options.AllowedMethods, allowStar: true);
        CheckTokens(failures, "AllowedHeaders", options.AllowedHeaders, allowStar: true);
        CheckTokens(failures, "ExposedHeaders", options.ExposedHeaders, allowStar: false);
        if (options.PreflightMaxAgeSeconds < 0)
        {
            failures.Add($"{Section}:PreflightMaxAgeSeconds must be 0 (no Access-Control-Max-Age) or more seconds.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckTokens(List<string> failures, string key, IList<string> values, bool allowStar)
    {
        for (var i = 0; i < values.Count; i++)
        {
            if (!(allowStar && values[i] == "*") && !HeaderValues.IsValidName(values[i]))
            {
                failures.Add($"{Section}:{key}:{i} \"{values[i]}\" is not a valid {(key == "AllowedMethods" ? "method" : "header name")}.");
            }
        }
    }
}
