using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace AiEdge.Middleware.Redis.Internal;

/// <summary>Where the suite's multiplexer comes from.</summary>
internal enum RedisConnectionSourceKind
{
    /// <summary>Redis is not used.</summary>
    None,

    /// <summary>Made from <c>AiEdge:Redis:Configuration</c>, owned (and disposed) by the suite.</summary>
    Owned,

    /// <summary>The app's own <see cref="IConnectionMultiplexer"/> (registered, or a keyed service it names).</summary>
    App,
}

/// <summary>
/// Chooses the multiplexer: the keyed service named by <c>AiEdge:Redis:ConnectionServiceKey</c>; else one made from
/// <c>AiEdge:Redis:Configuration</c>; else the app's registered <see cref="IConnectionMultiplexer"/>; else none.
/// </summary>
internal sealed class RedisConnectionSource
{
    private RedisConnectionSource(RedisConnectionSourceKind kind, Func<IConnectionMultiplexer>? resolve, string description)
    {
        Kind = kind;
        Resolve = resolve;
        Description = description;
    }

    public static RedisConnectionSource None { get; } = new(RedisConnectionSourceKind.None, null, "(not configured)");

    public RedisConnectionSourceKind Kind { get; }

    /// <summary>Gets the app's multiplexer (for <see cref="RedisConnectionSourceKind.App"/>).</summary>
    public Func<IConnectionMultiplexer>? Resolve { get; }

    /// <summary>Gets a description for logs, never holding a password.</summary>
    public string Description { get; }

    public static RedisConnectionSource Owned(RedisOptions options)
        => new(RedisConnectionSourceKind.Owned, null, Describe(options.Configuration));

    public static RedisConnectionSource App(IConnectionMultiplexer multiplexer)
        => new(RedisConnectionSourceKind.App, () => multiplexer, "the app's IConnectionMultiplexer");

    public static RedisConnectionSource From(RedisOptions options, IServiceProvider services)
    {
        if (!string.IsNullOrWhiteSpace(options.ConnectionServiceKey))
        {
            var key = options.ConnectionServiceKey;
            return new(RedisConnectionSourceKind.App, () => services.GetRequiredKeyedService<IConnectionMultiplexer>(key), $"the app's IConnectionMultiplexer '{key}'");
        }

        if (!string.IsNullOrWhiteSpace(options.Configuration))
        {
            return Owned(options);
        }

        return services.GetService<IServiceProviderIsService>()?.IsService(typeof(IConnectionMultiplexer)) == true
            ? new(RedisConnectionSourceKind.App, services.GetRequiredService<IConnectionMultiplexer>, "the app's IConnectionMultiplexer")
            : None;
    }

    /// <summary>
    /// The StackExchange.Redis configuration of the suite's own multiplexer: <c>AiEdge:Redis:Configuration</c>
    /// (<see cref="ConfigurationOptions.Parse(string)"/> syntax) with the suite's defaults where the string says
    /// nothing: never abort when Redis is down at startup, fail fast rather than queue while disconnected,
    /// reconnect with backoff up to <see cref="RedisOptions.MaxReconnectDelay"/>; then <see cref="RedisOptions.ConfigureConnection"/>.
    /// </summary>
    public static ConfigurationOptions CreateConfiguration(RedisOptions options)
    {
        var text = options.Configuration;
        var configuration = ConfigurationOptions.Parse(text);
        if (!Mentions(text, "abortConnect"))
        {
            configuration.AbortOnConnectFail = false;
        }

        if (!Mentions(text, "connectTimeout"))
        {
            configuration.ConnectTimeout = (int)Math.Ceiling(options.ConnectTimeout.TotalMilliseconds);
        }

        if (!Mentions(text, "asyncTimeout"))
        {
            configuration.AsyncTimeout = (int)Math.Ceiling(options.CommandTimeout.TotalMilliseconds);
        }

        if (!Mentions(text, "syncTimeout"))
        {
            configuration.SyncTimeout = (int)Math.Ceiling(options.CommandTimeout.TotalMilliseconds);
        }

        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        configuration.ReconnectRetryPolicy = new ExponentialRetry(
            (int)RedisDefaults.MinReconnectDelay.TotalMilliseconds,
            (int)Math.Max(RedisDefaults.MinReconnectDelay.TotalMilliseconds, options.MaxReconnectDelay.TotalMilliseconds));
        if (options.RemoteCertificateValidation is { } validation)
        {
            configuration.CertificateValidation += validation;
        }

        configuration.ClientName ??= "aiedge";
        options.ConfigureConnection?.Invoke(configuration);
        return configuration;
    }

    /// <summary>Checks <paramref name="configuration"/> parses; the error never echoes the string (it may hold a password).</summary>
    public static bool TryValidate(string configuration, out string? error)
    {
        try
        {
            var parsed = ConfigurationOptions.Parse(configuration);
            if (parsed.EndPoints.Count == 0)
            {
                error = "names no endpoint";
                return false;
            }

            error = null;
            return true;
        }
        catch (ArgumentException ex)
        {
            error = "is not valid: " + Redact(ex.Message, configuration);
            return false;
        }
    }

    private static bool Mentions(string text, string option) => text.Contains(option + "=", StringComparison.OrdinalIgnoreCase);

    private static string Describe(string configuration)
    {
        try
        {
            return string.Join(",", ConfigurationOptions.Parse(configuration).EndPoints);
        }
        catch (ArgumentException)
        {
            return "(invalid configuration)";
        }
    }

    private static string Redact(string message, string configuration)
    {
        foreach (var part in configuration.Split(','))
        {
            var at = part.IndexOf('=');
            if (at > 0 && part.AsSpan(0, at).Trim().Equals("password", StringComparison.OrdinalIgnoreCase) && at + 1 < part.Length)
            {
                message = message.Replace(part[(at + 1)..], "***", StringComparison.Ordinal);
            }
        }

        return message;
    }
}
