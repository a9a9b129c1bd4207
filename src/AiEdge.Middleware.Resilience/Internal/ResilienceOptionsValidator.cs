using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Resilience.Internal;

/// <summary>Checks <c>AiEdge:Resilience</c> at startup and names each bad key the way configuration spells it.</summary>
internal sealed class ResilienceOptionsValidator : IValidateOptions<ResilienceOptions>
{
    private const string Root = "AiEdge:Resilience";
    private static readonly TimeSpan MinTimeout = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan MaxTimeout = TimeSpan.FromHours(24);
    private static readonly TimeSpan MinWindow = TimeSpan.FromMilliseconds(500);

    public ValidateOptionsResult Validate(string? name, ResilienceOptions options)
    {
        var errors = new List<string>();
        foreach (var (breakerName, breaker) in options.Breakers)
        {
            ValidateBreaker(errors, Root + ":Breakers:" + breakerName, breaker);
        }

        foreach (var (backendName, backend) in options.Backends)
        {
            ValidateBackend(errors, options, backendName, backend);
        }

        ValidateRelay(errors, options.Relay);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateRelay(List<string> errors, BackendRelayOptions relay)
    {
        for (var i = 0; i < relay.AllowedHeaders.Count; i++)
        {
            var header = relay.AllowedHeaders[i];
            var key = Root + ":Relay:AllowedHeaders:" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!BackendRelay.IsToken(header))
            {
                errors.Add(key + " must be a header name; '" + header + "' is not.");
            }
            else if (BackendRelay.IsHopByHop(header))
            {
                errors.Add(key + ": '" + header + "' is a hop-by-hop header and is never relayed.");
            }
        }

        for (var i = 0; i < relay.InternalHeaderPrefixes.Count; i++)
        {
            if (!BackendRelay.IsToken(relay.InternalHeaderPrefixes[i]))
            {
                errors.Add(Root + ":Relay:InternalHeaderPrefixes:" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)
                    + " must be the start of a header name; '" + relay.InternalHeaderPrefixes[i] + "' is not.");
            }
        }
    }

    private static void ValidateBreaker(List<string> errors, string key, BreakerOptions breaker)
    {
        if (breaker is null)
        {
            errors.Add(key + " must be an object.");
            return;
        }

        if (!(breaker.FailureRatio > 0 && breaker.FailureRatio <= 1))
        {
            errors.Add(key + ":FailureRatio must be above 0 and at most 1.");
        }

        if (breaker.MinimumThroughput < 2)
        {
            errors.Add(key + ":MinimumThroughput must be at least 2.");
        }

        if (breaker.SamplingDuration < MinWindow)
        {
            errors.Add(key + ":SamplingDuration must be at least 00:00:00.5.");
        }

        if (breaker.BreakDuration < MinWindow || breaker.BreakDuration > MaxTimeout)
        {
            errors.Add(key + ":BreakDuration must be from 00:00:00.5 to 1.00:00:00.");
        }

        if (breaker.AttemptTimeout < MinTimeout || breaker.AttemptTimeout > MaxTimeout)
        {
            errors.Add(key + ":AttemptTimeout must be from 00:00:00.01 to 1.00:00:00.");
        }

        if (breaker.TotalTimeout < MinTimeout || breaker.TotalTimeout > MaxTimeout)
        {
            errors.Add(key + ":TotalTimeout must be from 00:00:00.01 to 1.00:00:00.");
        }

        if (breaker.MaxRetryAttempts is < 0 or > 10)
        {
            errors.Add(key + ":MaxRetryAttempts must be from 0 to 10.");
        }

        if (breaker.RetryDelay < TimeSpan.Zero || breaker.RetryDelay > TimeSpan.FromMinutes(1))
        {
            errors.Add(key + ":RetryDelay must be from 00:00:00 to 00:01:00.");
        }
    }

    private static void ValidateBackend(List<string> errors, ResilienceOptions options, string backendName, BackendOptions backend)
    {
        var key = Root + ":Backends:" + backendName;
        if (backend is null)
        {
            errors.Add(key + " must be an object.");
            return;
        }

        if (backend.Replicas.Count == 0)
        {
            errors.Add(key + ":Replicas must list at least one replica.");
        }
        else if (backend.Replicas.Count > BackendPool.MaxReplicas)
        {
            errors.Add(key + ":Replicas must list at most 64 replicas.");
        }

        if (backend.Breaker is { Length: > 0 } breaker && !options.Breakers.ContainsKey(breaker))
        {
            errors.Add(key + ":Breaker names '" + breaker + "', which is not configured under " + Root + ":Breakers.");
        }

        if (!Enum.IsDefined(backend.Selection))
        {
            errors.Add(key + ":Selection must be LeastOutstanding or PowerOfTwoChoices.");
        }

        if (backend.HealthPath is { Length: > 0 } path && !path.StartsWith('/'))
        {
            errors.Add(key + ":HealthPath must start with '/'.");
        }

        if (backend.ProbeInterval < TimeSpan.FromMilliseconds(100))
        {
            errors.Add(key + ":ProbeInterval must be at least 00:00:00.1.");
        }

        if (backend.ProbeTimeout < MinTimeout || backend.ProbeTimeout > MaxTimeout)
        {
            errors.Add(key + ":ProbeTimeout must be from 00:00:00.01 to 1.00:00:00.");
        }

        if (backend.UnhealthyThreshold < 1)
        {
            errors.Add(key + ":UnhealthyThreshold must be at least 1.");
        }

        if (backend.HealthyThreshold < 1)
        {
            errors.Add(key + ":HealthyThreshold must be at least 1.");
        }

        for (var i = 0; i < backend.Replicas.Count; i++)
        {
            var replicaKey = key + ":Replicas:" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var replica = backend.Replicas[i];
            if (replica is null)
            {
                errors.Add(replicaKey + " must be an object with a Url.");
                continue;
            }

            if (!IsHttpUrl(replica.Url))
            {
                errors.Add(replicaKey + ":Url must be an absolute http or https URL.");
            }

            if (replica.Weight is < 1 or > 1000)
            {
                errors.Add(replicaKey + ":Weight must be from 1 to 1000.");
            }

            if (replica.HealthUrl is { Length: > 0 } && !IsHttpUrl(replica.HealthUrl))
            {
                errors.Add(replicaKey + ":HealthUrl must be an absolute http or https URL.");
            }
        }
    }

    private static bool IsHttpUrl(string? value)
        => Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}
