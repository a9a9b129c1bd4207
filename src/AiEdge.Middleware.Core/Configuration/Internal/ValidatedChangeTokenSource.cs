using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace AiEdge.Middleware.Configuration.Internal;

/// <summary>
/// Tells <see cref="IOptionsMonitor{TOptions}"/> that <typeparamref name="TOptions"/> changed only when the
/// configuration changed and the new options pass every check: a reload with a mistake is logged and ignored, so the
/// running options stay the last valid ones (the monitor would otherwise throw from the configuration's reload).
/// </summary>
internal sealed partial class ValidatedChangeTokenSource<TOptions> : IOptionsChangeTokenSource<TOptions>, IDisposable
    where TOptions : class
{
    private readonly IOptionsFactory<TOptions> _factory;
    private readonly ILogger _logger;
    private readonly string _path;
    private readonly IDisposable _subscription;
    private CancellationTokenSource _changed = new();

    public ValidatedChangeTokenSource(IConfiguration configuration, IOptionsFactory<TOptions> factory, ILogger<ConfigurationSections> logger, string path)
    {
        _factory = factory;
        _logger = logger;
        _path = path;
        _subscription = ChangeToken.OnChange(configuration.GetReloadToken, OnReload);
    }

    public string Name => Options.DefaultName;

    public IChangeToken GetChangeToken() => new CancellationChangeToken(Volatile.Read(ref _changed).Token);

    public void Dispose() => _subscription.Dispose();

    private void OnReload()
    {
        try
        {
            _factory.Create(Options.DefaultName);
        }
        catch (OptionsValidationException exception)
        {
            Log.ReloadRejected(_logger, _path, string.Join(" ", exception.Failures));
            return;
        }

        var previous = Interlocked.Exchange(ref _changed, new CancellationTokenSource());
        previous.Cancel();
        previous.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1970, LogLevel.Error, "The reloaded configuration of {Section} was not applied; the previous settings stay in effect: {Failures}", EventName = "ConfigurationReloadRejected")]
        public static partial void ReloadRejected(ILogger logger, string section, string failures);
    }
}
