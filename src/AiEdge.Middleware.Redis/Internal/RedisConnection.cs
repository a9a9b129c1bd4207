using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using AiEdge.Middleware.Internal;
using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.Redis.Internal;

/// <summary>
/// The built-in RESP2 client: one multiplexed, pipelined connection to one endpoint. Commands from every request
/// are written, in order, into one outbound pipe that a writer loop copies to the socket (so concurrent commands
/// leave in shared packets); a reader loop parses replies and completes the waiting commands first in, first out.
/// A reply that is later than the command timeout means the connection is broken: it is dropped and every waiting
/// command fails at once; while disconnected, <see cref="IsConnected"/> is false (callers decide locally without
/// trying), and a background loop reconnects with exponential backoff.
/// </summary>
internal sealed partial class RedisConnection : IRedisConnection, IAsyncDisposable
{
    private static readonly Task<RedisValue> NotConnectedTask = Task.FromException<RedisValue>(new RedisConnectionException("Redis is not connected."));

    private readonly RedisEndpoint? _endpoint;
    private readonly RedisOptions _options;
    private readonly TimeProvider _time;
    private readonly RedisMetrics? _metrics;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _disposed = new();
    private readonly object _lock = new();
    private PhysicalConnection? _current;
    private Task? _connectLoop;
    private TaskCompletionSource _connectedSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _connected;
    private volatile string? _lastError;

    public RedisConnection(RedisOptions options, TimeProvider time, RedisMetrics? metrics, ILogger<RedisConnection> logger)
    {
        _options = options;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        KeyPrefix = options.KeyPrefix;
        if (!string.IsNullOrWhiteSpace(options.Configuration))
        {
            if (!RedisEndpoint.TryParse(options.Configuration, out _endpoint, out var error))
            {
                throw new InvalidOperationException($"AiEdge:Redis:Configuration {error}.");
            }
        }
    }

    public RedisConnectionState State => _endpoint is null ? RedisConnectionState.NotConfigured
        : _connected ? RedisConnectionState.Connected
        : RedisConnectionState.Disconnected;

    public bool IsConnected => _connected;

    public string KeyPrefix { get; }

    public string? LastError => _lastError;

    internal RedisEndpoint? Endpoint => _endpoint;

    /// <summary>Starts connecting in the background (idempotent) and returns a task that completes once connected.</summary>
    public Task WhenConnectedAsync()
    {
        if (_endpoint is null)
        {
            return Task.FromException(new InvalidOperationException("AiEdge:Redis:Configuration is empty."));
        }

        lock (_lock)
        {
            EnsureConnecting_NeedsLock();
            return _connected ? Task.CompletedTask : _connectedSignal.Task;
        }
    }

    /// <summary>Starts the background connection loop when no connection exists.</summary>
    public void Start()
    {
        if (_endpoint is null)
        {
            return;
        }

        lock (_lock)
        {
            EnsureConnecting_NeedsLock();
        }
    }

    public Task<RedisValue> ExecuteAsync(string command, params ReadOnlySpan<RedisArg> args)
    {
        var connection = _current;
        if (!_connected || connection is null)
        {
            return NotConnected();
        }

        return connection.Send(command, args);
    }

    public Task<RedisValue> EvaluateAsync(RedisScript script, int keyCount, RedisArg[] keysAndArgs)
        => EvaluateCoreAsync(script, new ArgumentArray(keyCount, keysAndArgs));

    public Task<RedisValue> EvaluateAsync(RedisScript script, IRedisScriptArguments arguments)
        => EvaluateCoreAsync(script, arguments);

    private async Task<RedisValue> EvaluateCoreAsync<TArguments>(RedisScript script, TArguments arguments)
        where TArguments : IRedisScriptArguments
    {
        var connection = _current;
        if (!_connected || connection is null)
        {
            return await NotConnected().ConfigureAwait(false);
        }

        var reply = await connection.SendScript(script, reload: false, arguments).ConfigureAwait(false);
        if (reply.IsErrorWithPrefix("NOSCRIPT"u8))
        {
            // The server lost the script while connected (SCRIPT FLUSH), or refused its first EVAL before caching it:
            // EVAL sends it and caches it again.
            reply = await connection.SendScript(script, reload: true, arguments).ConfigureAwait(false);
        }

        return reply;
    }

    /// <summary>Keys and arguments given as an array of <see cref="RedisArg"/>, the keys first.</summary>
    private readonly struct ArgumentArray(int keyCount, RedisArg[] keysAndArgs) : IRedisScriptArguments
    {
        public int KeyCount => keyCount;

        public int Count => keysAndArgs.Length;

        public void WriteTo(IBufferWriter<byte> writer) => RespWriter.WriteArgs(writer, keysAndArgs);
    }

    private Task<RedisValue> NotConnected()
    {
        if (_endpoint is not null && _connectLoop is null)
        {
            Start();
        }

        return NotConnectedTask;
    }

    private void EnsureConnecting_NeedsLock()
    {
        if (_connectLoop is null && !_connected && !_disposed.IsCancellationRequested)
        {
            _connectLoop = Task.Run(ConnectLoopAsync);
        }
    }

    private async Task ConnectLoopAsync()
    {
        var delay = RedisDefaults.MinReconnectDelay;
        var attempt = 0;
        while (!_disposed.IsCancellationRequested)
        {
            attempt++;
            try
            {
                var connection = await PhysicalConnection.ConnectAsync(this, _endpoint!, _disposed.Token).ConfigureAwait(false);
                lock (_lock)
                {
                    _current = connection;
                    _connected = true;
                    _lastError = null;
                    _connectLoop = null;
                    _connectedSignal.TrySetResult();
                }

                Log.Connected(_logger, _endpoint!.ToString(), attempt);
                return;
            }
            catch (Exception ex) when (!_disposed.IsCancellationRequested)
            {
                _lastError = ex.Message;
                Log.ConnectFailed(_logger, _endpoint!.ToString(), attempt, ex.Message);
            }
            catch (Exception)
            {
                return;
            }

            try
            {
                await Task.Delay(delay, _time, _disposed.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxReconnectDelay.Ticks));
        }
    }

    private void OnConnectionFailed(PhysicalConnection connection, Exception error)
    {
        lock (_lock)
        {
            if (!ReferenceEquals(_current, connection))
            {
                return;
            }

            _current = null;
            _connected = false;
            _lastError = error.Message;
            if (_connectedSignal.Task.IsCompleted)
            {
                _connectedSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            EnsureConnecting_NeedsLock();
        }

        Log.ConnectionLost(_logger, _endpoint!.ToString(), error.Message);
    }

    public async ValueTask DisposeAsync()
    {
        PhysicalConnection? connection;
        Task? loop;
        lock (_lock)
        {
            if (_disposed.IsCancellationRequested)
            {
                return;
            }

            _disposed.Cancel();
            connection = _current;
            _current = null;
            _connected = false;
            loop = _connectLoop;
        }

        connection?.Fail(new RedisConnectionException("The Redis connection was disposed."), notify: false);
        if (loop is not null)
        {
            try
            {
                await loop.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The loop reports its own failures.
            }
        }

        _disposed.Dispose();
    }

    /// <summary>A command waiting for its reply.</summary>
    private sealed class PendingCommand(string command, long started) : TaskCompletionSource<RedisValue>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public string Command { get; } = command;

        public long Started { get; } = started;
    }

    /// <summary>One socket: its outbound pipe, its FIFO of pending commands, and its reader and writer loops.</summary>
    private sealed class PhysicalConnection
    {
        private readonly RedisConnection _owner;
        private readonly Socket _socket;
        private readonly Stream _stream;
        private readonly PipeReader _input;
        private readonly Pipe _outbound = new(new PipeOptions(pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false));
        private readonly ConcurrentQueue<PendingCommand> _pending = new();
        private readonly object _writeLock = new();
        private readonly HashSet<RedisScript> _loadedScripts = [];
        private readonly long _timeoutTicks;
        private ITimer? _timeoutTimer;
        private bool _failed;

        private PhysicalConnection(RedisConnection owner, Socket socket, Stream stream)
        {
            _owner = owner;
            _socket = socket;
            _stream = stream;
            _input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4 * 1024, leaveOpen: true));
            _timeoutTicks = (long)(owner._options.CommandTimeout.TotalSeconds * owner._time.TimestampFrequency);
        }

        public static async Task<PhysicalConnection> ConnectAsync(RedisConnection owner, RedisEndpoint endpoint, CancellationToken cancellation)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            timeout.CancelAfter(owner._options.ConnectTimeout);
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            PhysicalConnection? connection = null;
            try
            {
                try
                {
                    await socket.ConnectAsync(endpoint.Host, endpoint.Port, timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
                {
                    throw new RedisConnectionException($"Connecting to {endpoint} timed out after {owner._options.ConnectTimeout}.");
                }

                Stream stream = new NetworkStream(socket, ownsSocket: false);
                if (endpoint.Ssl)
                {
                    var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                    await ssl.AuthenticateAsClientAsync(
                        new SslClientAuthenticationOptions
                        {
                            TargetHost = endpoint.Host,
                            RemoteCertificateValidationCallback = owner._options.RemoteCertificateValidation,
                        },
                        timeout.Token).ConfigureAwait(false);
                    stream = ssl;
                }

                connection = new PhysicalConnection(owner, socket, stream);
                connection.StartLoops();

                if (endpoint.Password is not null)
                {
                    var auth = endpoint.User is null
                        ? connection.Send("AUTH", [endpoint.Password])
                        : connection.Send("AUTH", [endpoint.User, endpoint.Password]);
                    var reply = await auth.WaitAsync(timeout.Token).ConfigureAwait(false);
                    if (reply.IsError)
                    {
                        throw new RedisConnectionException("Redis refused AUTH: " + reply);
                    }
                }

                if (endpoint.Database != 0)
                {
                    var reply = await connection.Send("SELECT", [(long)endpoint.Database]).WaitAsync(timeout.Token).ConfigureAwait(false);
                    if (reply.IsError)
                    {
                        throw new RedisConnectionException("Redis refused SELECT: " + reply);
                    }
                }

                var pong = await connection.Send("PING", []).WaitAsync(timeout.Token).ConfigureAwait(false);
                if (pong.IsError)
                {
                    throw new RedisConnectionException("Redis refused PING: " + pong);
                }

                return connection;
            }
            catch (Exception ex)
            {
                if (connection is not null)
                {
                    connection.Fail(ex, notify: false);
                }
                else
                {
                    socket.Dispose();
                }

                if (ex is OperationCanceledException && !cancellation.IsCancellationRequested)
                {
                    throw new RedisConnectionException($"Connecting to {endpoint} timed out after {owner._options.ConnectTimeout}.", ex);
                }

                throw;
            }
        }

        private void StartLoops()
        {
            var period = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond * 10, _owner._options.CommandTimeout.Ticks / 5));
            _timeoutTimer = _owner._time.CreateTimer(static state => ((PhysicalConnection)state!).CheckTimeout(), this, period, period);
            _ = Task.Run(ReadLoopAsync);
            _ = Task.Run(WriteLoopAsync);
        }

        public Task<RedisValue> Send(string command, ReadOnlySpan<RedisArg> args)
        {
            var pending = new PendingCommand(command, _owner._time.GetTimestamp());
            lock (_writeLock)
            {
                if (_failed)
                {
                    return NotConnectedTask;
                }

                RespWriter.WriteCommand(_outbound.Writer, command, args);
                _pending.Enqueue(pending);

                // The outbound pipe has no back-pressure, so the flush completes synchronously.
                _ = _outbound.Writer.FlushAsync();
            }

            return pending.Task;
        }

        public Task<RedisValue> SendScript<TArguments>(RedisScript script, bool reload, TArguments arguments)
            where TArguments : IRedisScriptArguments
        {
            lock (_writeLock)
            {
                if (_failed)
                {
                    return NotConnectedTask;
                }

                var pending = StartScript_NeedsLock(script, reload, out var command, out var scriptOrSha);
                RespWriter.WriteScriptHeader(_outbound.Writer, command, scriptOrSha, arguments.KeyCount, arguments.Count);
                arguments.WriteTo(_outbound.Writer);
                _pending.Enqueue(pending);
                _ = _outbound.Writer.FlushAsync();
                return pending.Task;
            }
        }

        /// <summary>
        /// Chooses <c>EVAL</c> for the first use of <paramref name="script"/> on this socket (or a reload after
        /// <c>NOSCRIPT</c>) and <c>EVALSHA</c> afterwards. Redis runs a socket's commands in the order they were
        /// written, and the <c>EVAL</c> caches the script before anything written after it runs, so a fresh
        /// connection never answers <c>NOSCRIPT</c>: calls that follow each other are never retried out of order.
        /// </summary>
        private PendingCommand StartScript_NeedsLock(RedisScript script, bool reload, out string command, out string scriptOrSha)
        {
            if (!reload && _loadedScripts.Contains(script))
            {
                command = "EVALSHA";
                scriptOrSha = script.Sha1;
            }
            else
            {
                _loadedScripts.Add(script);
                command = "EVAL";
                scriptOrSha = script.Text;
            }

            return new PendingCommand(command, _owner._time.GetTimestamp());
        }

        private void CheckTimeout()
        {
            if (_pending.TryPeek(out var oldest) && _owner._time.GetTimestamp() - oldest.Started > _timeoutTicks)
            {
                Fail(new RedisConnectionException($"Redis did not answer {oldest.Command} within {_owner._options.CommandTimeout}."), notify: true);
            }
        }

        private async Task WriteLoopAsync()
        {
            var reader = _outbound.Reader;
            try
            {
                while (true)
                {
                    var result = await reader.ReadAsync().ConfigureAwait(false);
                    var buffer = result.Buffer;
                    foreach (var segment in buffer)
                    {
                        await _stream.WriteAsync(segment).ConfigureAwait(false);
                    }

                    await _stream.FlushAsync().ConfigureAwait(false);
                    reader.AdvanceTo(buffer.End);
                    if (result.IsCompleted || result.IsCanceled)
                    {
                        return;
                    }
                }
            }
            catch (Exception ex)
            {
                Fail(ex, notify: true);
            }
        }

        private async Task ReadLoopAsync()
        {
            try
            {
                while (true)
                {
                    var result = await _input.ReadAsync().ConfigureAwait(false);
                    var buffer = result.Buffer;
                    var consumed = ProcessReplies(buffer);
                    _input.AdvanceTo(consumed, buffer.End);
                    if (result.IsCompleted || result.IsCanceled)
                    {
                        throw new RedisConnectionException("Redis closed the connection.");
                    }
                }
            }
            catch (Exception ex)
            {
                Fail(ex, notify: true);
            }
        }

        private SequencePosition ProcessReplies(in ReadOnlySequence<byte> buffer)
        {
            var reader = new SequenceReader<byte>(buffer);
            var metrics = _owner._metrics;
            while (true)
            {
                var start = reader.Position;
                if (!RespParser.TryRead(ref reader, out var value))
                {
                    return start;
                }

                if (!_pending.TryDequeue(out var pending))
                {
                    throw new InvalidDataException("Redis sent a reply no command was waiting for.");
                }

                if (metrics is not null)
                {
                    var seconds = (double)(_owner._time.GetTimestamp() - pending.Started) / _owner._time.TimestampFrequency;
                    metrics.RedisCommand(pending.Command, seconds, value.IsError ? "error" : "ok");
                }

                pending.TrySetResult(value);
            }
        }

        public void Fail(Exception error, bool notify)
        {
            lock (_writeLock)
            {
                if (_failed)
                {
                    return;
                }

                _failed = true;
            }

            _timeoutTimer?.Dispose();
            _outbound.Writer.Complete();
            try
            {
                _socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception)
            {
                // Already closed.
            }

            _socket.Dispose();
            _stream.Dispose();
            var failure = error as RedisConnectionException ?? new RedisConnectionException("The Redis connection failed: " + error.Message, error);
            while (_pending.TryDequeue(out var pending))
            {
                _owner._metrics?.RedisCommand(pending.Command, 0, "failure");
                pending.TrySetException(failure);
            }

            if (notify)
            {
                _owner.OnConnectionFailed(this, failure);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1801, LogLevel.Information, "Connected to Redis at {Endpoint} (attempt {Attempt}).", EventName = "RedisConnected")]
        public static partial void Connected(ILogger logger, string endpoint, int attempt);

        [LoggerMessage(1802, LogLevel.Warning, "Connecting to Redis at {Endpoint} failed (attempt {Attempt}): {Error}", EventName = "RedisConnectFailed")]
        public static partial void ConnectFailed(ILogger logger, string endpoint, int attempt, string error);

        [LoggerMessage(1803, LogLevel.Warning, "The connection to Redis at {Endpoint} was lost: {Error}. Decisions are taken locally until it returns.", EventName = "RedisConnectionLost")]
        public static partial void ConnectionLost(ILogger logger, string endpoint, string error);
    }
}
