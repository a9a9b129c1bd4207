using System.Diagnostics;
using System.Net;
using AiEdge.Middleware.Internal;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace AiEdge.Middleware.Redis.Internal;

/// <summary>
/// The suite's connection to Redis over StackExchange.Redis: the app's <see cref="IConnectionMultiplexer"/> (given
/// by <see cref="RedisConnectionSource"/>), or one this class makes from <c>AiEdge:Redis:Configuration</c>, owns and
/// disposes. Every call is awaited for at most the command timeout; a call that times out trips a breaker (every
/// request decides locally without trying Redis) until a background <c>PING</c> answers again, so a hung Redis
/// costs each request at most one timeout and then nothing. Topology errors (<c>MOVED</c> or <c>ASK</c> the client
/// did not follow, <c>CROSSSLOT</c>, <c>CLUSTERDOWN</c>, <c>READONLY</c>) are logged, counted and reported to
/// readiness for a while.
/// </summary>
internal sealed partial class RedisConnection : IRedisConnection, IAsyncDisposable
{
    /// <summary>How long a topology error keeps readiness Degraded after it was last seen.</summary>
    internal static readonly TimeSpan TopologyErrorWindow = TimeSpan.FromSeconds(30);

    private static readonly ActivitySource Spans = new(AiEdgeDiagnostics.ActivitySourceName);

    private readonly RedisOptions _options;
    private readonly RedisConnectionSource _source;
    private readonly RedisMetrics? _metrics;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _disposed = new();
    private readonly TimeSpan _commandTimeout;
    private IConnectionMultiplexer? _multiplexer;
    private IDatabase? _database;
    private Task? _starting;
    private TaskCompletionSource _connectedSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _tripped;
    private int _probing;
    private volatile string? _lastError;
    private volatile bool _authenticationFailed;
    private volatile string? _topologyError;
    private long _topologyErrorAt;

    public RedisConnection(RedisOptions options, RedisConnectionSource source, RedisMetrics? metrics, ILogger<RedisConnection> logger)
    {
        _options = options;
        _source = source;
        _metrics = metrics;
        _logger = logger;
        _commandTimeout = options.CommandTimeout;
        KeyPrefix = options.KeyPrefix;
    }

    public RedisConnectionState State => _source.Kind == RedisConnectionSourceKind.None ? RedisConnectionState.NotConfigured
        : IsConnected ? RedisConnectionState.Connected
        : RedisConnectionState.Disconnected;

    public bool IsConnected => !_tripped && _multiplexer is { IsConnected: true };

    public string KeyPrefix { get; }

    public string? LastError => _lastError;

    public string? RecentTopologyError
        => _topologyError is { } error && TimeProvider.System.GetElapsedTime(Volatile.Read(ref _topologyErrorAt)) < TopologyErrorWindow ? error : null;

    /// <summary>Gets the multiplexer in use, once started (tests and the health check).</summary>
    internal IConnectionMultiplexer? Multiplexer => _multiplexer;

    public ISubscriber? Subscriber => _multiplexer?.GetSubscriber();

    public IDatabaseAsync Database => _database ?? throw new RedisConnectionException("Redis is not connected.");

    /// <summary>Starts connecting (idempotent) and returns a task that completes once connected.</summary>
    public Task WhenConnectedAsync()
    {
        if (_source.Kind == RedisConnectionSourceKind.None)
        {
            return Task.FromException(new InvalidOperationException("AiEdge:Redis:Configuration is empty."));
        }

        lock (_lock)
        {
            _starting ??= Task.Run(StartAsync);
            return IsConnected ? Task.CompletedTask : _connectedSignal.Task;
        }
    }

    /// <summary>
    /// The line of the client's connection log that says why it failed: an authentication refusal first (it is the
    /// one a user must act on, and later lines only say the connection failed), else the first failure or error.
    /// </summary>
    private static string? FirstFailure(string log)
    {
        string? first = null;
        foreach (var line in log.Split('\n'))
        {
            if (IsAuthenticationFailure(line))
            {
                return DescribeAuthenticationFailure(line.Trim());
            }

            if (first is null && (line.Contains("fail", StringComparison.OrdinalIgnoreCase)
                || line.Contains("error", StringComparison.OrdinalIgnoreCase) || line.Contains("exception", StringComparison.OrdinalIgnoreCase)))
            {
                first = line.Trim();
            }
        }

        return first;
    }

    private static bool IsAuthenticationFailure(string message)
        => message.Contains("WRONGPASS", StringComparison.Ordinal) || message.Contains("NOAUTH", StringComparison.Ordinal)
            || message.Contains("AuthenticationFailure", StringComparison.Ordinal) || message.Contains("AUTH failed", StringComparison.Ordinal)
            || message.Contains("invalid username-password", StringComparison.OrdinalIgnoreCase);

    private static string DescribeAuthenticationFailure(string message)
        => message.Contains("AUTH", StringComparison.Ordinal) ? message : "AUTH refused (check user and password): " + message;

    /// <summary>
    /// Records why the connection is down. An authentication refusal stays the reason until a connection succeeds:
    /// the failures that follow it only repeat that the connection failed.
    /// </summary>
    private void NoteFailure(string message, bool authentication)
    {
        if (authentication)
        {
            _authenticationFailed = true;
            _lastError = DescribeAuthenticationFailure(message);
        }
        else if (!_authenticationFailed)
        {
            _lastError = message;
        }
    }

    /// <summary>Starts connecting in the background (idempotent).</summary>
    public void Start() => _ = WhenConnectedAsync();

    /// <summary>Sends any command (tests and administration; the stores use typed calls and scripts).</summary>
    internal Task<RedisResult> ExecuteAsync(string command, params object[] args)
    {
        var database = _database;
        return database is null || _tripped
            ? Task.FromException<RedisResult>(new RedisConnectionException("Redis is not connected."))
            : RunAsync(database.ExecuteAsync(command, args), command);
    }

    private async Task StartAsync()
    {
        IConnectionMultiplexer multiplexer;
        using var connectLog = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            if (_source.Kind == RedisConnectionSourceKind.Owned)
            {
                var configuration = RedisConnectionSource.CreateConfiguration(_options);
                multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration, connectLog).ConfigureAwait(false);
            }
            else
            {
                multiplexer = _source.Resolve!();
            }
        }
        catch (Exception ex) when (!_disposed.IsCancellationRequested)
        {
            // ConnectAsync fails only for an invalid configuration (abortConnect is off unless asked for).
            _lastError = ex.Message;
            Log.ConnectFailed(_logger, _source.Description, ex.Message);
            lock (_lock)
            {
                _connectedSignal.TrySetException(new RedisConnectionException("Connecting to Redis failed: " + ex.Message, ex));
            }

            return;
        }

        multiplexer.ConnectionFailed += OnConnectionFailed;
        multiplexer.ConnectionRestored += OnConnectionRestored;
        lock (_lock)
        {
            _multiplexer = multiplexer;
            _database = multiplexer.GetDatabase();
        }

        if (multiplexer.IsConnected)
        {
            Log.Connected(_logger, _source.Description);
            SignalConnected();
        }
        else
        {
            var failure = FirstFailure(connectLog.ToString());
            if (failure is not null)
            {
                NoteFailure(failure, IsAuthenticationFailure(failure));
            }

            _lastError ??= "connecting";
            Log.ConnectFailed(_logger, _source.Description, _lastError);
        }
    }

    public Task<RedisResult> EvaluateAsync(RedisScript script, RedisKey[] keys, RedisValue[] args)
    {
        var database = _database;
        if (database is null || _tripped)
        {
            return Task.FromException<RedisResult>(new RedisConnectionException("Redis is not connected."));
        }

        return EvaluateCoreAsync(database, script, keys, args);
    }

    private async Task<RedisResult> EvaluateCoreAsync(IDatabase database, RedisScript script, RedisKey[] keys, RedisValue[] args)
    {
        // By its text: the client remembers, per server, which scripts it loaded, and sends SCRIPT LOAD ahead of the
        // first call on a server in the same pipeline, then EVALSHA; calls made one after another run in that order
        // even on a fresh connection or a newly promoted primary.
        try
        {
            return await RunAsync(database.ScriptEvaluateAsync(script.Text, keys, args), "EVALSHA").ConfigureAwait(false);
        }
        catch (RedisConnectionException ex) when (ex.InnerException is RedisServerException server && server.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            // The server dropped its scripts while connected (SCRIPT FLUSH): send it whole, which caches it again.
            return await RunAsync(database.ExecuteAsync("EVAL", EvalArguments(script, keys, args)), "EVAL").ConfigureAwait(false);
        }
    }

    private static object[] EvalArguments(RedisScript script, RedisKey[] keys, RedisValue[] args)
    {
        var all = new object[2 + keys.Length + args.Length];
        all[0] = script.Text;
        all[1] = keys.Length;
        keys.CopyTo(all, 2);
        for (var i = 0; i < args.Length; i++)
        {
            all[2 + keys.Length + i] = args[i];
        }

        return all;
    }

    public async Task<T> RunAsync<T>(Task<T> command, string operation)
    {
        var started = Stopwatch.GetTimestamp();
        var span = Spans.HasListeners() ? StartSpan(operation) : null;
        try
        {
            var result = await command.WaitAsync(_commandTimeout).ConfigureAwait(false);
            _metrics?.RedisCommand(operation, Stopwatch.GetElapsedTime(started).TotalSeconds, "ok");
            span?.Dispose();
            return result;
        }
        catch (Exception ex)
        {
            throw Failed(command, operation, started, span, ex);
        }
    }

    private RedisConnectionException Failed(Task command, string operation, long started, Activity? span, Exception error)
    {
        var outcome = "failure";
        string message;
        switch (error)
        {
            case TimeoutException:
                // The command may still complete later; nobody waits for it any more.
                _ = command.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                message = $"Redis did not answer {operation} within {_commandTimeout}.";
                Trip(message);
                break;
            case RedisServerException server when TopologyErrorKind(server.Message) is { } kind:
                outcome = "error";
                message = server.Message;
                TopologyError(operation, kind, server.Message);
                break;
            case RedisCommandException command2 when command2.Message.Contains("slot", StringComparison.OrdinalIgnoreCase):
                // The client refuses a multi-key call across hash slots before sending it.
                outcome = "error";
                message = command2.Message;
                TopologyError(operation, "CROSSSLOT", command2.Message);
                break;
            case RedisServerException server:
                outcome = "error";
                message = server.Message;
                break;
            default:
                message = error.Message;
                break;
        }

        _metrics?.RedisCommand(operation, Stopwatch.GetElapsedTime(started).TotalSeconds, outcome);
        if (span is not null)
        {
            span.SetStatus(ActivityStatusCode.Error, message);
            span.SetTag("error.type", error is RedisServerException s ? FirstWord(s.Message) : error.GetType().FullName);
            span.Dispose();
        }

        return error as RedisConnectionException ?? new RedisConnectionException(message, error);
    }

    /// <summary>The error code of a reply that means the topology or key layout is wrong, or <see langword="null"/>.</summary>
    internal static string? TopologyErrorKind(string message)
        => FirstWord(message) switch
        {
            "MOVED" => "MOVED",
            "ASK" => "ASK",
            "CROSSSLOT" => "CROSSSLOT",
            "CLUSTERDOWN" => "CLUSTERDOWN",
            "READONLY" => "READONLY",
            "TRYAGAIN" => "TRYAGAIN",
            _ => null,
        };

    private static string FirstWord(string message)
    {
        var end = message.IndexOf(' ', StringComparison.Ordinal);
        return end < 0 ? message : message[..end];
    }

    private void TopologyError(string operation, string kind, string message)
    {
        _topologyError = kind + ": " + message;
        Volatile.Write(ref _topologyErrorAt, TimeProvider.System.GetTimestamp());
        _metrics?.TopologyError(kind);
        Log.TopologyError(_logger, operation, kind, message);
    }

    private Activity? StartSpan(string operation)
    {
        var span = Spans.StartActivity(operation, ActivityKind.Client);
        if (span is null)
        {
            return null;
        }

        span.SetTag("db.system.name", "redis");
        span.SetTag("db.operation.name", operation);
        if (_multiplexer is { } multiplexer && multiplexer.GetEndPoints() is [var endpoint, ..])
        {
            switch (endpoint)
            {
                case DnsEndPoint dns:
                    span.SetTag("server.address", dns.Host);
                    span.SetTag("server.port", dns.Port);
                    break;
                case IPEndPoint ip:
                    span.SetTag("server.address", ip.Address.ToString());
                    span.SetTag("server.port", ip.Port);
                    break;
            }
        }

        return span;
    }

    /// <summary>A command timed out: decide locally until a PING answers within the timeout again.</summary>
    private void Trip(string reason)
    {
        _lastError = reason;
        if (_tripped)
        {
            return;
        }

        _tripped = true;
        lock (_lock)
        {
            if (_connectedSignal.Task.IsCompleted)
            {
                _connectedSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        Log.ConnectionLost(_logger, _source.Description, reason);
        if (Interlocked.Exchange(ref _probing, 1) == 0)
        {
            _ = Task.Run(ProbeAsync);
        }
    }

    private async Task ProbeAsync()
    {
        var delay = RedisDefaults.MinReconnectDelay;
        while (!_disposed.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(delay, TimeProvider.System, _disposed.Token).ConfigureAwait(false);
                var database = _database;
                if (database is not null)
                {
                    await database.PingAsync().WaitAsync(_commandTimeout, _disposed.Token).ConfigureAwait(false);
                    _tripped = false;
                    Volatile.Write(ref _probing, 0);
                    if (IsConnected)
                    {
                        Log.Connected(_logger, _source.Description);
                        SignalConnected();
                    }

                    return;
                }
            }
            catch (OperationCanceledException) when (_disposed.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                NoteFailure(ex.Message, IsAuthenticationFailure(ex.Message));
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxReconnectDelay.Ticks));
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType != ConnectionType.Interactive)
        {
            return;
        }

        var message = e.Exception?.Message ?? e.FailureType.ToString();
        NoteFailure(message, e.FailureType == ConnectionFailureType.AuthenticationFailure || IsAuthenticationFailure(message));
        lock (_lock)
        {
            if (_connectedSignal.Task.IsCompleted && !IsConnected)
            {
                _connectedSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        Log.ConnectionLost(_logger, e.EndPoint?.ToString() ?? _source.Description, _lastError ?? message);
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType != ConnectionType.Interactive)
        {
            return;
        }

        Log.Connected(_logger, e.EndPoint?.ToString() ?? _source.Description);
        if (IsConnected)
        {
            _authenticationFailed = false;
            _lastError = null;
            SignalConnected();
        }
    }

    private void SignalConnected()
    {
        lock (_lock)
        {
            _connectedSignal.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        IConnectionMultiplexer? multiplexer;
        lock (_lock)
        {
            if (_disposed.IsCancellationRequested)
            {
                return;
            }

            _disposed.Cancel();
            multiplexer = _multiplexer;
            _multiplexer = null;
            _database = null;
        }

        if (_starting is { } starting)
        {
            await starting.ConfigureAwait(false);
            multiplexer ??= _multiplexer;
        }

        if (multiplexer is not null)
        {
            multiplexer.ConnectionFailed -= OnConnectionFailed;
            multiplexer.ConnectionRestored -= OnConnectionRestored;

            // Only the multiplexer this class made is closed: the app's stays the app's.
            if (_source.Kind == RedisConnectionSourceKind.Owned)
            {
                await multiplexer.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1801, LogLevel.Information, "Connected to Redis at {Endpoint}.", EventName = "RedisConnected")]
        public static partial void Connected(ILogger logger, string endpoint);

        [LoggerMessage(1802, LogLevel.Warning, "Connecting to Redis at {Endpoint} failed: {Error}", EventName = "RedisConnectFailed")]
        public static partial void ConnectFailed(ILogger logger, string endpoint, string error);

        [LoggerMessage(1803, LogLevel.Warning, "The connection to Redis at {Endpoint} was lost: {Error}. Decisions are taken locally until it returns.", EventName = "RedisConnectionLost")]
        public static partial void ConnectionLost(ILogger logger, string endpoint, string error);

        [LoggerMessage(1804, LogLevel.Error, "Redis answered {Operation} with a topology error ({Kind}): {Error}. The decision was taken locally; check the cluster's state and the key layout.", EventName = "RedisTopologyError")]
        public static partial void TopologyError(ILogger logger, string operation, string kind, string error);
    }
}
