using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit;

namespace AiEdge.Middleware.Testing;

/// <summary>
/// A real Sentinel setup on free loopback ports: one primary, one replica and three sentinels
/// (<c>redis-server sentinel.conf --sentinel</c>) watching the primary as <see cref="ServiceName"/> (quorum 2,
/// down after 1 s). Each sentinel writes its own config file in a temporary directory, removed on dispose with the
/// processes. Use it as an xUnit class fixture.
/// </summary>
public sealed class RedisSentinelFixture : IAsyncLifetime, IAsyncDisposable
{
    /// <summary>The name the sentinels monitor the primary under.</summary>
    public const string ServiceName = "aiedge";

    private readonly string _directory = Directory.CreateTempSubdirectory("aiedge-redis-sentinel-").FullName;
    private readonly List<Process> _sentinels = [];
    private readonly List<int> _sentinelPorts = [];

    /// <summary>Gets the server that starts as primary.</summary>
    public RedisServerFixture Primary { get; private set; } = null!;

    /// <summary>Gets the server that starts as replica.</summary>
    public RedisServerFixture Replica { get; private set; } = null!;

    /// <summary>Gets the <c>AiEdge:Redis:Configuration</c> value naming the sentinels and the service.</summary>
    public string Configuration => string.Join(',', _sentinelPorts.Select(static p => "127.0.0.1:" + p.ToString(CultureInfo.InvariantCulture))) + ",serviceName=" + ServiceName;

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        Primary = await RedisServerFixture.StartAsync();
        Replica = await RedisServerFixture.StartAsync("--replicaof", "127.0.0.1", Primary.Port.ToString(CultureInfo.InvariantCulture));
        for (var i = 0; i < 3; i++)
        {
            var port = Commands.FreePort();
            var file = Path.Combine(_directory, $"sentinel-{i}.conf");
            await File.WriteAllTextAsync(file, $"""
                port {port}
                bind 127.0.0.1
                daemonize no
                dir {_directory}
                sentinel monitor {ServiceName} 127.0.0.1 {Primary.Port} 2
                sentinel down-after-milliseconds {ServiceName} 1000
                sentinel failover-timeout {ServiceName} 5000
                sentinel parallel-syncs {ServiceName} 1

                """);
            var start = new ProcessStartInfo(RedisServerFixture.ServerPath) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(file);
            start.ArgumentList.Add("--sentinel");
            var process = Process.Start(start) ?? throw new InvalidOperationException("redis-server --sentinel did not start.");
            process.OutputDataReceived += static (_, _) => { };
            process.ErrorDataReceived += static (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _sentinels.Add(process);
            _sentinelPorts.Add(port);
        }

        // Ready when the replica has synced with the primary (a replica still syncing may never be promoted), and every
        // sentinel knows the primary, its replica and the two other sentinels.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var ready = (await Replica.CommandAsync("INFO replication")).Contains("master_link_status:up", StringComparison.Ordinal);
            foreach (var port in _sentinelPorts)
            {
                string reply;
                try
                {
                    reply = await CommandAsync(port, "SENTINEL MASTER " + ServiceName);
                }
                catch (SocketException)
                {
                    reply = string.Empty;
                }

                ready &= reply.Contains("num-slaves\r\n:1", StringComparison.Ordinal) || reply.Contains("num-slaves\r\n$1\r\n1", StringComparison.Ordinal);
                ready &= reply.Contains("num-other-sentinels\r\n:2", StringComparison.Ordinal) || reply.Contains("num-other-sentinels\r\n$1\r\n2", StringComparison.Ordinal);
            }

            if (ready)
            {
                return;
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new InvalidOperationException("The replica did not sync, or the sentinels did not discover the primary, its replica and each other, in time.");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Asks the first sentinel which port the primary is on now.</summary>
    public async Task<int> PrimaryPortAsync()
    {
        var reply = await CommandAsync(_sentinelPorts[0], "SENTINEL GET-MASTER-ADDR-BY-NAME " + ServiceName);
        var lines = reply.Split("\r\n");
        return int.Parse(lines[^2], CultureInfo.InvariantCulture);
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        foreach (var sentinel in _sentinels)
        {
            if (!sentinel.HasExited)
            {
                sentinel.Kill();
                await sentinel.WaitForExitAsync();
            }

            sentinel.Dispose();
        }

        await Replica.DisposeAsync();
        await Primary.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A sentinel still rewriting its config; the temporary directory is left behind.
        }
    }

    /// <inheritdoc />
    ValueTask IAsyncDisposable.DisposeAsync() => new(DisposeAsync());

    private static async Task<string> CommandAsync(int port, string inlineCommand)
    {
        using var client = new TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(inlineCommand + "\r\n"), timeout.Token);
        var buffer = new byte[64 * 1024];
        var read = await stream.ReadAsync(buffer, timeout.Token);
        return Encoding.UTF8.GetString(buffer, 0, read);
    }
}
