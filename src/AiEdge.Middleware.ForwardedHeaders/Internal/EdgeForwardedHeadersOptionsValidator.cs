using System.Net;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.ForwardedHeaders.Internal;

/// <summary>Validates <see cref="EdgeForwardedHeadersOptions"/> at startup, naming keys the way configuration spells them.</summary>
internal sealed class EdgeForwardedHeadersOptionsValidator : IValidateOptions<EdgeForwardedHeadersOptions>
{
    private const string Section = "AiEdge:ForwardedHeaders";

    public ValidateOptionsResult Validate(string? name, EdgeForwardedHeadersOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var proxies = options.TrustedProxies ?? [];
        var networks = new List<IPNetwork>();
        for (var i = 0; i < proxies.Count; i++)
        {
            var entry = proxies[i];
            if (string.IsNullOrWhiteSpace(entry) || !TrustedNetwork.TryParse(entry, out var network))
            {
                failures.Add($"{Section}:TrustedProxies:{i} must be an IP address or a CIDR range such as \"10.0.0.0/8\" or \"fd00::/8\" (got \"{entry}\").");
            }
            else
            {
                networks.Add(network);
            }
        }

        if (!options.AllowAnyProxy && TrustedNetwork.CoversEverything(networks))
        {
            failures.Add($"{Section}:TrustedProxies trusts every address (\"{string.Join("\", \"", proxies)}\"), so any client could forge its address, scheme and host. " +
                $"List only your proxies' addresses or ranges, or set {Section}:AllowAnyProxy to true if nothing but your proxies can reach the application.");
        }

        if (options.ForwardLimit is < 1 or > 64)
        {
            failures.Add($"{Section}:ForwardLimit must be from 1 to 64 (got {options.ForwardLimit}).");
        }

        if (options.MaxHeaderLength is < 64 or > 65536)
        {
            failures.Add($"{Section}:MaxHeaderLength must be from 64 to 65536 characters (got {options.MaxHeaderLength}).");
        }

        if ((options.Headers & ~ForwardedHeaderSources.All) != 0)
        {
            failures.Add($"{Section}:Headers must combine {string.Join(", ", Enum.GetNames<ForwardedHeaderSources>())} (got {(int)options.Headers}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
