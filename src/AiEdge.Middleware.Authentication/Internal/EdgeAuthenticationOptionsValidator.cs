using System.Globalization;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Authentication.Internal;

/// <summary>Checks the options at startup, naming each failing key the way configuration spells it.</summary>
internal sealed class EdgeAuthenticationOptionsValidator : IValidateOptions<EdgeAuthenticationOptions>
{
    private const string Section = EdgeAuthenticationDefaults.ConfigurationSection;
    private static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    public ValidateOptionsResult Validate(string? name, EdgeAuthenticationOptions options)
    {
        var failures = new List<string>();
        ValidateApiKeys(options.ApiKeys, failures);
        ValidateJwt(options.Jwt, failures);
        if (options.RequireAuthenticatedCaller && options.ApiKeys.Keys.Count == 0 && !AuthenticationSettings.IsJwtEnabled(options.Jwt))
        {
            failures.Add($"{Section}:RequireAuthenticatedCaller is true but no caller could authenticate: configure {Section}:ApiKeys:Keys or {Section}:Jwt:SigningKeys.");
        }

        if (string.IsNullOrWhiteSpace(options.PlanClaim))
        {
            failures.Add($"{Section}:PlanClaim must name a claim, such as \"plan\".");
        }

        if (options.ScopeClaims is { } scopeClaims)
        {
            for (var i = 0; i < scopeClaims.Count; i++)
            {
                if (string.IsNullOrWhiteSpace(scopeClaims[i]))
                {
                    failures.Add($"{Section}:ScopeClaims:{i.ToString(CultureInfo.InvariantCulture)} must name a claim, such as \"scope\".");
                }
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateApiKeys(EdgeApiKeyOptions options, List<string> failures)
    {
        const string Prefix = Section + ":ApiKeys";
        if (string.IsNullOrWhiteSpace(options.HeaderName) || !IsHeaderName(options.HeaderName))
        {
            failures.Add($"{Prefix}:HeaderName must be a valid HTTP header name, such as \"X-API-Key\".");
        }
        else if (string.Equals(options.HeaderName, "Authorization", StringComparison.OrdinalIgnoreCase))
        {
            failures.Add($"{Prefix}:HeaderName must not be \"Authorization\": set {Prefix}:AcceptBearer to read keys from \"Authorization: Bearer <key>\".");
        }

        if (options.MaxKeyLength is < 16 or > 1024)
        {
            failures.Add($"{Prefix}:MaxKeyLength must be from 16 to 1024 characters.");
        }

        var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, key) in options.Keys)
        {
            var prefix = $"{Prefix}:Keys:{name}";
            if (key is null)
            {
                failures.Add($"{prefix} must have a Hash.");
                continue;
            }

            if (string.IsNullOrWhiteSpace(name) || name.Contains(' ', StringComparison.Ordinal))
            {
                failures.Add($"{prefix}: a key name must be non-empty and contain no spaces.");
            }

            if (key.Hash is not { Length: 64 } hash || !IsHex(hash))
            {
                failures.Add($"{prefix}:Hash must be the SHA-256 of the key as 64 hexadecimal characters (ApiKeyHasher.ComputeHash(key), or: printf %s \"$KEY\" | sha256sum).");
            }
            else if (!seen.TryAdd(hash, name))
            {
                failures.Add($"{prefix}:Hash is the same as the hash of key '{seen[hash]}': each key must be distinct.");
            }

            if (key.Plan is { } plan && (plan.Length == 0 || plan.Contains(' ', StringComparison.Ordinal)))
            {
                failures.Add($"{prefix}:Plan must be a non-empty name without spaces, such as \"free\" or \"pro\".");
            }

            for (var i = 0; i < key.Scopes.Count; i++)
            {
                if (!IsScope(key.Scopes[i]))
                {
                    failures.Add($"{prefix}:Scopes:{i.ToString(CultureInfo.InvariantCulture)} must be a non-empty scope without spaces or quotes.");
                }
            }
        }
    }

    private static void ValidateJwt(EdgeJwtOptions options, List<string> failures)
    {
        const string Prefix = Section + ":Jwt";
        var anyKey = options.SigningKeys.Count > 0;
        for (var i = 0; i < options.SigningKeys.Count; i++)
        {
            var index = i.ToString(CultureInfo.InvariantCulture);
            var key = options.SigningKeys[i];
            if (key is null)
            {
                failures.Add($"{Prefix}:SigningKeys:{index} must set Secret or PublicKeyPem.");
            }
            else if (!JwtKeyLoader.TryLoad(key, out var loaded, out var error))
            {
                failures.Add($"{Prefix}:SigningKeys:{index} {error}.");
            }
            else
            {
                // Loaded only to check it; the JwtBearer options load their own copy.
                JwtKeyLoader.Dispose(loaded);
            }
        }

        var discovery = false;
        discovery |= ValidateMetadataUri(options.Authority, $"{Prefix}:Authority", options.RequireHttpsMetadata, failures);
        discovery |= ValidateMetadataUri(options.MetadataAddress, $"{Prefix}:MetadataAddress", options.RequireHttpsMetadata, failures);
        if (anyKey && !discovery && options.ValidIssuers.Count == 0)
        {
            failures.Add($"{Prefix}:ValidIssuers must name at least one issuer when {Prefix}:SigningKeys are configured without {Prefix}:Authority.");
        }

        if ((anyKey || discovery) && options.ValidAudiences.Count == 0)
        {
            failures.Add($"{Prefix}:ValidAudiences must name at least one audience when {Prefix}:SigningKeys or {Prefix}:Authority are configured.");
        }

        if (!anyKey && !discovery && (options.ValidIssuers.Count > 0 || options.ValidAudiences.Count > 0 || options.Algorithms.Count > 0))
        {
            failures.Add($"{Prefix}:SigningKeys must hold at least one key (or {Prefix}:Authority be set) when {Prefix} is configured.");
        }

        if (options.RefreshInterval < TimeSpan.FromSeconds(1))
        {
            failures.Add($"{Prefix}:RefreshInterval must be at least 00:00:01.");
        }

        if (options.AutomaticRefreshInterval < TimeSpan.FromMinutes(5))
        {
            failures.Add($"{Prefix}:AutomaticRefreshInterval must be at least 00:05:00.");
        }

        for (var i = 0; i < options.Algorithms.Count; i++)
        {
            var algorithm = options.Algorithms[i];
            var key = $"{Prefix}:Algorithms:{i.ToString(CultureInfo.InvariantCulture)}";
            if (string.Equals(algorithm, "none", StringComparison.OrdinalIgnoreCase))
            {
                failures.Add($"{key} must not be \"none\": unsigned tokens are never accepted.");
            }
            else if (!JwtKeyLoader.IsKnown(algorithm))
            {
                failures.Add($"{key} \"{algorithm}\" is not a supported algorithm (HS256/384/512, RS256/384/512, PS256/384/512, ES256/384/512).");
            }
        }

        if (options.ClockSkew < TimeSpan.Zero || options.ClockSkew > MaxClockSkew)
        {
            failures.Add($"{Prefix}:ClockSkew must be from 00:00:00 to 00:05:00.");
        }

        if (options.PlanClaim is not null && string.IsNullOrWhiteSpace(options.PlanClaim))
        {
            failures.Add($"{Prefix}:PlanClaim must name a claim, such as \"plan\".");
        }

        if (options.MaxTokenLength is < 256 or > 65536)
        {
            failures.Add($"{Prefix}:MaxTokenLength must be from 256 to 65536 characters.");
        }
    }

    /// <summary>Checks an optional metadata address; returns whether it is set.</summary>
    private static bool ValidateMetadataUri(string? value, string key, bool requireHttps, List<string> failures)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            failures.Add($"{key} must be an absolute http(s) address.");
        }
        else if (requireHttps && uri.Scheme != Uri.UriSchemeHttps)
        {
            failures.Add($"{key} must be an https address unless {Section}:Jwt:RequireHttpsMetadata is false.");
        }

        return true;
    }

    private static bool IsHex(string value)
    {
        foreach (var c in value)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsScope(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        foreach (var c in value)
        {
            if (c is <= ' ' or '"' or '\\' or > '~')
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsHeaderName(string value)
    {
        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~'))
            {
                return false;
            }
        }

        return true;
    }
}
