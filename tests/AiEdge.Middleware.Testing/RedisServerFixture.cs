using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit;

namespace AiEdge.Middleware.Testing;

/// <summary>
/// A real <c>redis-server</c> on a loopback port reserved for it (<see cref="LoopbackPorts"/>) until it is disposed, so
/// no other test's server takes the port, not even while this one is killed, without persistence, for tests of the
/// Redis-backed concerns. It counts as started only once its own process says it accepts connections.
/// Use it as an xUnit class fixture or start extra servers with <see cref="StartAsync"/>. When redis-server is not
/// installed the fixture fails (it never skips): run <c>./test.sh</c>, which installs it, or <c>apt-get install redis-server</c>.
/// </summary>
public sealed class RedisServerFixture : IAsyncLifetime, IAsyncDisposable
{
    /// <summary>The server binary the fixture runs.</summary>
    public const string ServerPath = "/usr/bin/redis-server";

    private readonly string[] _extraArguments;
    private readonly LoopbackPorts.Reservation _port;
    private Process? _process;

    /// <summary>Creates a fixture for a server without extra arguments (xUnit class fixture).</summary>
    public RedisServerFixture()
        : this([])
    {
    }

    private RedisServerFixture(string[] extraArguments)
    {
        _extraArguments = extraArguments;
        _port = LoopbackPorts.Reserve();
    }

    /// <summary>Gets the loopback port the server listens on (kept across <see cref="RestartAsync"/>).</summary>
    public int Port => _port.Port;

    /// <summary>Gets the <c>AiEdge:Redis:Configuration</c> value that reaches the server (without credentials).</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    /// <summary>Gets whether the server process is running.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts a server with extra command-line arguments, e.g. <c>"--requirepass", "secret"</c>.</summary>
    public static async Task<RedisServerFixture> StartAsync(params string[] extraArguments)
    {
        var fixture = new RedisServerFixture(extraArguments);
        await fixture.InitializeAsync();
        return fixture;
    }

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        if (!File.Exists(ServerPath))
        {
            throw new InvalidOperationException(
                $"{ServerPath} is not installed, and the Redis tests need a real server. Install it with " +
                "'apt-get install redis-server' or run ./test.sh, which installs it.");
        }

        await StartProcessAsync();
    }

    /// <summary>Kills the server at once (SIGKILL, like <c>kill -9</c>): no reply, no shutdown, state lost.</summary>
    public void Kill()
    {
        var process = _process;
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: false);
            process.WaitForExit(10_000);
        }
    }

    /// <summary>Starts the server again on the same port (after <see cref="Kill"/>), empty, and waits until it answers.</summary>
    public Task RestartAsync()
    {
        Kill();
        _process?.Dispose();
        _process = null;
        return StartProcessAsync();
    }

    /// <summary>Sends one inline command (e.g. <c>FLUSHALL</c>, <c>SCRIPT FLUSH</c>) and returns the raw reply.</summary>
    public async Task<string> CommandAsync(string inlineCommand, string? password = null)
    {
        using var client = new TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await client.ConnectAsync(IPAddress.Loopback, Port, timeout.Token);
        var stream = client.GetStream();
        if (password is not null)
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes($"AUTH {password}\r\n"), timeout.Token);
            await ReadReplyAsync(stream, timeout.Token);
        }

        await stream.WriteAsync(Encoding.UTF8.GetBytes(inlineCommand + "\r\n"), timeout.Token);
        return await ReadReplyAsync(stream, timeout.Token);
    }

    /// <inheritdoc />
    public Task DisposeAsync()
    {
        Kill();
        _process?.Dispose();
        _process = null;
        _port.Dispose();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    ValueTask IAsyncDisposable.DisposeAsync() => new(DisposeAsync());

    private async Task StartProcessAsync()
    {
        var start = new ProcessStartInfo(ServerPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["--save", "", "--appendonly", "no", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--daemonize", "no"])
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var argument in _extraArguments)
        {
            start.ArgumentList.Add(argument);
        }

        var output = new StringBuilder();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Append(object sender, DataReceivedEventArgs e)
        {
            if (e.Data is null)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(e.Data);
            }

            // Its own word that it listens: a PING could be answered by another server on the port.
            if (e.Data.Contains("Ready to accept connections", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"{ServerPath} did not start.");
        process.OutputDataReceived += Append;
        process.ErrorDataReceived += Append;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var exited = process.WaitForExitAsync();
        var first = await Task.WhenAny(ready.Task, exited, Task.Delay(TimeSpan.FromSeconds(20)));
        if (first != ready.Task)
        {
            var exitedFirst = first == exited;
            Kill();
            string said;
            lock (output)
            {
                said = output.ToString();
            }

            throw new InvalidOperationException(exitedFirst
                ? $"redis-server exited with code {process.ExitCode} on port {Port}: {said}"
                : $"redis-server did not say it accepts connections on port {Port} within 20 s: {said}");
        }

        var reply = await CommandAsync("PING");
        if (!reply.StartsWith("+PONG", StringComparison.Ordinal) && !reply.StartsWith("-NOAUTH", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"redis-server on port {Port} answered PING with {reply}");
        }
    }

    private static async Task<string> ReadReplyAsync(NetworkStream stream, CancellationToken cancellation)
    {
        var buffer = new byte[64 * 1024];
        var read = await stream.ReadAsync(buffer, cancellation);
        return Encoding.UTF8.GetString(buffer, 0, read);
    }
}
