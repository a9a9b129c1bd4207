using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Xunit;

namespace AiEdge.Middleware.Testing;

/// <summary>
/// A real 6-node Redis Cluster (3 primaries, 3 replicas) as <c>redis-server</c> processes on free loopback ports,
/// made with <c>redis-cli --cluster create ... --cluster-replicas 1</c>, ready once every node reports
/// <c>cluster_state:ok</c>. Each node keeps its <c>nodes.conf</c> in its own temporary directory, removed on
/// dispose with the processes. Use it as an xUnit class fixture.
/// </summary>
public sealed class RedisClusterFixture : IAsyncLifetime, IAsyncDisposable
{
    /// <summary>The cluster tool the fixture runs.</summary>
    public const string CliPath = "/usr/bin/redis-cli";

    private const int NodeCount = 6;
    private readonly string _directory = Directory.CreateTempSubdirectory("aiedge-redis-cluster-").FullName;
    private readonly List<RedisServerFixture> _nodes = [];

    /// <summary>Gets the nodes, in the order given to <c>redis-cli --cluster create</c> (the first three start as primaries).</summary>
    public IReadOnlyList<RedisServerFixture> Nodes => _nodes;

    /// <summary>Gets the <c>AiEdge:Redis:Configuration</c> value naming every node.</summary>
    public string Configuration => string.Join(',', _nodes.Select(static n => n.Configuration));

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        for (var i = 0; i < NodeCount; i++)
        {
            var directory = Directory.CreateDirectory(Path.Combine(_directory, i.ToString(CultureInfo.InvariantCulture))).FullName;
            _nodes.Add(await RedisServerFixture.StartAsync(
                "--cluster-enabled", "yes",
                "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", "2000",
                "--cluster-port", Commands.FreePort().ToString(CultureInfo.InvariantCulture),
                "--dir", directory));
        }

        var create = new ProcessStartInfo(CliPath) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        create.ArgumentList.Add("--cluster");
        create.ArgumentList.Add("create");
        foreach (var node in _nodes)
        {
            create.ArgumentList.Add(node.Configuration);
        }

        create.ArgumentList.Add("--cluster-replicas");
        create.ArgumentList.Add("1");
        create.ArgumentList.Add("--cluster-yes");
        using (var process = Process.Start(create) ?? throw new InvalidOperationException($"{CliPath} did not start."))
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"redis-cli --cluster create failed ({process.ExitCode}): {await output} {await error}");
            }
        }

        await WaitUntilOkAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>Waits until every running node reports <c>cluster_state:ok</c> and knows all the others.</summary>
    public async Task WaitUntilOkAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var ok = true;
            foreach (var node in _nodes)
            {
                if (!node.IsRunning)
                {
                    continue;
                }

                var info = await node.CommandAsync("CLUSTER INFO");
                ok &= info.Contains("cluster_state:ok", StringComparison.Ordinal) && info.Contains("cluster_slots_assigned:16384", StringComparison.Ordinal);
            }

            if (ok)
            {
                return;
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new InvalidOperationException("The Redis Cluster did not reach cluster_state:ok in time.");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Finds the node that serves <paramref name="slot"/> as primary right now.</summary>
    public async Task<RedisServerFixture> PrimaryOfSlotAsync(int slot)
    {
        foreach (var node in _nodes)
        {
            if (!node.IsRunning)
            {
                continue;
            }

            var role = await node.CommandAsync("ROLE");
            if (role.Contains("master", StringComparison.Ordinal) && await ServesAsync(node, slot))
            {
                return node;
            }
        }

        throw new InvalidOperationException($"No running primary serves slot {slot}.");
    }

    /// <summary>Gets the hash slot of <paramref name="key"/> (<c>CLUSTER KEYSLOT</c>).</summary>
    public async Task<int> SlotOfAsync(string key)
    {
        var reply = await _nodes[0].CommandAsync("CLUSTER KEYSLOT " + key);
        return int.Parse(reply.AsSpan(1).Trim(), CultureInfo.InvariantCulture);
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A node still flushing its nodes.conf; the temporary directory is left behind.
        }
    }

    /// <inheritdoc />
    ValueTask IAsyncDisposable.DisposeAsync() => new(DisposeAsync());

    private static async Task<bool> ServesAsync(RedisServerFixture node, int slot)
    {
        // CLUSTER NODES: the line flagged "myself" lists the slot ranges this node serves.
        var nodes = await node.CommandAsync("CLUSTER NODES");
        foreach (var line in nodes.Split('\n'))
        {
            if (!line.Contains("myself", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (var part in line.Split(' ').Skip(8))
            {
                var range = part.Trim().Split('-');
                if (range.Length is 1 or 2 && int.TryParse(range[0], CultureInfo.InvariantCulture, out var from))
                {
                    var to = range.Length == 2 && int.TryParse(range[1], CultureInfo.InvariantCulture, out var end) ? end : from;
                    if (slot >= from && slot <= to)
                    {
                        return true;
                    }
                }
            }
        }

        return false;
    }

}
