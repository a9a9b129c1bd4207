using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit;

namespace AiEdge.Middleware.Testing;

/// <summary>
/// A real <c>redis-server</c> on a free loopback port, without persistence, for tests of the Redis-backed concerns.
/// Use it as an xUnit class fixture or start extra servers with <see cref="StartAsync"/>. When redis-server is not
/// installed the fixture fails (it never skips): run <c>./test.sh</c>, which installs it, or <c>apt-get install redis-server</c>.
/// </summary>
public sealed class RedisServerFixture : IAsyncLifetime, IAsyncDisposable
{
    /// <summary>The server binary the fixture runs.</summary>
    public const string ServerPath = "/usr/bin/redis-server";

    private readonly string[] _extraArguments;
    private Process? _process;

    /// <summary>Creates a fixture for a server without extra arguments (xUnit class fixture).</summary>
    public RedisServerFixture()
        : this([])
    {
    }

    private RedisServerFixture(string[] extraArguments)
    {
        _extraArguments = extraArguments;
        Port = FreePort();
    }

    /// <summary>Gets the loopback port the server listens on (kept across <see cref="RestartAsync"/>).</summary>
    public int Port { get; }

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
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{ServerPath} did not start.");
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with code {process.ExitCode} on port {Port}: {output}");
            }

            try
            {
                var reply = await CommandAsync("PING");
                if (reply.StartsWith("+PONG", StringComparison.Ordinal) || reply.StartsWith("-NOAUTH", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                // Not listening yet.
            }

            if (DateTime.UtcNow >= deadline)
            {
                Kill();
                throw new InvalidOperationException($"redis-server did not answer PING on port {Port} within 20 s: {output}");
            }

            await Task.Delay(20);
        }
    }

    private static async Task<string> ReadReplyAsync(NetworkStream stream, CancellationToken cancellation)
    {
        var buffer = new byte[64 * 1024];
        var read = await stream.ReadAsync(buffer, cancellation);
        return Encoding.UTF8.GetString(buffer, 0, read);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
