using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Redis.Internal;

/// <summary>Checks <see cref="RedisOptions"/> at startup, naming keys as configuration spells them.</summary>
internal sealed class RedisOptionsValidator : IValidateOptions<RedisOptions>
{
    private const string Section = RedisDefaults.ConfigurationSection;

    public ValidateOptionsResult Validate(string? name, RedisOptions options)
    {
        List<string>? failures = null;
        if (!string.IsNullOrWhiteSpace(options.Configuration) && !RedisConnectionSource.TryValidate(options.Configuration, out var error))
        {
            Add(ref failures, $"{Section}:Configuration {error}; it must be a StackExchange.Redis configuration string such as \"host1:6379,host2:6379,password=...,ssl=true\".");
        }

        if (options.ConnectTimeout <= TimeSpan.Zero || options.ConnectTimeout > TimeSpan.FromMinutes(5))
        {
            Add(ref failures, $"{Section}:ConnectTimeout must be more than 0 and at most 00:05:00.");
        }

        if (options.CommandTimeout <= TimeSpan.Zero || options.CommandTimeout > TimeSpan.FromMinutes(5))
        {
            Add(ref failures, $"{Section}:CommandTimeout must be more than 0 and at most 00:05:00.");
        }

        if (options.MaxReconnectDelay < RedisDefaults.MinReconnectDelay)
        {
            Add(ref failures, $"{Section}:MaxReconnectDelay must be at least 00:00:00.050.");
        }

        if (options.ReplicaHeartbeatInterval < TimeSpan.Zero || (options.ReplicaHeartbeatInterval > TimeSpan.Zero && options.ReplicaHeartbeatInterval < TimeSpan.FromMilliseconds(100)) || options.ReplicaHeartbeatInterval > TimeSpan.FromHours(1))
        {
            Add(ref failures, $"{Section}:ReplicaHeartbeatInterval must be 0 (off) or between 00:00:00.100 and 01:00:00.");
        }

        if (!Enum.IsDefined(options.FailureMode))
        {
            Add(ref failures, $"{Section}:FailureMode must be FailOpen or FailClosed.");
        }

        if (options.KeyPrefix is null || options.KeyPrefix.AsSpan().ContainsAny("{} \r\n"))
        {
            Add(ref failures, $"{Section}:KeyPrefix must not contain braces, spaces or line breaks.");
        }

        var leases = options.RateLimitLeases;
        if (!(leases.BurstFraction > 0 && leases.BurstFraction <= 0.5))
        {
            Add(ref failures, $"{Section}:RateLimitLeases:BurstFraction must be more than 0 and at most 0.5.");
        }

        if (leases.Lifetime <= TimeSpan.Zero || leases.Lifetime > TimeSpan.FromMinutes(10))
        {
            Add(ref failures, $"{Section}:RateLimitLeases:Lifetime must be more than 0 and at most 00:10:00.");
        }

        return failures is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Add(ref List<string>? failures, string failure) => (failures ??= []).Add(failure);
}
