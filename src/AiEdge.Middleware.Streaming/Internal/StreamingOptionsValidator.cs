using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Streaming.Internal;

/// <summary>Validates <see cref="StreamingOptions"/>, naming each failing key as configuration spells it.</summary>
internal sealed class StreamingOptionsValidator : IValidateOptions<StreamingOptions>
{
    private const string Prefix = StreamingOptions.ConfigurationSection + ":";

    public ValidateOptionsResult Validate(string? name, StreamingOptions options)
    {
        List<string>? failures = null;
        if (options.HeartbeatInterval < TimeSpan.Zero || options.HeartbeatInterval > StreamingDefaults.MaxHeartbeatInterval)
        {
            (failures ??= []).Add($"{Prefix}HeartbeatInterval must be from 00:00:00 (off) to 01:00:00, not {options.HeartbeatInterval}.");
        }

        for (var i = 0; i < options.AdditionalContentTypes.Count; i++)
        {
            var type = options.AdditionalContentTypes[i];
            if (!MediaTypes.IsMediaType(type))
            {
                (failures ??= []).Add($"{Prefix}AdditionalContentTypes:{i} must look like \"type/subtype\", not \"{type}\".");
            }
        }

        var webSockets = options.WebSockets;
        if (webSockets.KeepAliveInterval < TimeSpan.Zero)
        {
            (failures ??= []).Add($"{Prefix}WebSockets:KeepAliveInterval must not be negative.");
        }

        if (webSockets.KeepAliveTimeout < TimeSpan.Zero)
        {
            (failures ??= []).Add($"{Prefix}WebSockets:KeepAliveTimeout must not be negative.");
        }

        if (webSockets.IdleTimeout < TimeSpan.Zero)
        {
            (failures ??= []).Add($"{Prefix}WebSockets:IdleTimeout must not be negative.");
        }

        return failures is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
