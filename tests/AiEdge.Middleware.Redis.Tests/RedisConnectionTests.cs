using AiEdge.Middleware.Redis.Internal;
using AiEdge.Middleware.Testing;

namespace AiEdge.Middleware.Redis.Tests;

public sealed class RedisConnectionTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private static readonly TimeSpan Timeout = RedisTestConnections.Timeout;

    [Fact]
    public async Task ExecuteAsync_ErrorReply_FaultsWithRedisConnectionExceptionAndTheConnectionStays()
    {
        await using var connection = await RedisTestConnections.ConnectAsync(redis.Configuration);

        var failure = await Assert.ThrowsAsync<RedisConnectionException>(() => connection.ExecuteAsync("NOSUCHCOMMAND", "x").WaitAsync(Timeout));
        var after = await connection.ExecuteAsync("PING").WaitAsync(Timeout);

        Assert.Contains("ERR", failure.Message);
        Assert.Equal("PONG", after.ToString());
        Assert.True(connection.IsConnected);
    }

    [Fact]
    public async Task EvaluateAsync_AfterScriptFlush_FallsBackToEvalAndCachesAgain()
    {
        await using var connection = await RedisTestConnections.ConnectAsync(redis.Configuration, o => o.CommandTimeout = Timeout);
        var script = new RedisScript("test-add", "return tonumber(ARGV[1]) + tonumber(ARGV[2]) + #KEYS[1]");

        var before = await connection.EvaluateAsync(script, ["ab"], [1, 2]).WaitAsync(Timeout);
        Assert.Contains("OK", await redis.CommandAsync("SCRIPT FLUSH"));
        var first = await connection.EvaluateAsync(script, ["abc"], [1, 2]).WaitAsync(Timeout);
        var exists = await connection.ExecuteAsync("SCRIPT", "EXISTS", script.Sha1).WaitAsync(Timeout);
        var second = await connection.EvaluateAsync(script, ["abcd"], [1, 2]).WaitAsync(Timeout);

        Assert.Equal(5, before.Integer);
        Assert.Equal(6, first.Integer);
        Assert.Equal(1, exists.Items![0].Integer);
        Assert.Equal(7, second.Integer);
    }

    [Fact]
    public async Task Connect_WithDatabase_SelectsIt()
    {
        await using var db3 = await RedisTestConnections.ConnectAsync(redis.Configuration + ",defaultDatabase=3");
        await using var db0 = await RedisTestConnections.ConnectAsync(redis.Configuration);

        await db3.ExecuteAsync("SET", "conn:db", "three").WaitAsync(Timeout);

        Assert.Equal("three", (await db3.ExecuteAsync("GET", "conn:db").WaitAsync(Timeout)).ToString());
        Assert.True((await db0.ExecuteAsync("GET", "conn:db").WaitAsync(Timeout)).IsNull);
    }

    [Fact]
    public async Task Connect_ToAPortNobodyListensOn_StaysDisconnectedAndFailsFast()
    {
        await using var connection = RedisTestConnections.Create("127.0.0.1:1", o => o.ConnectTimeout = TimeSpan.FromMilliseconds(500));
        connection.Start();

        var started = DateTime.UtcNow;
        var failure = await Assert.ThrowsAsync<RedisConnectionException>(() => connection.ExecuteAsync("PING").WaitAsync(Timeout));

        Assert.False(connection.IsConnected);
        Assert.Equal(RedisConnectionState.Disconnected, connection.State);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromMilliseconds(100), "A command to a known-down Redis must fail at once.");
        Assert.Contains("not connected", failure.Message);
    }
}

public sealed class RedisConnectionAuthTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = RedisTestConnections.Timeout;
    private RedisServerFixture _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServerFixture.StartAsync("--requirepass", "s3cret");

    public Task DisposeAsync() => _redis.DisposeAsync();

    [Fact]
    public async Task Connect_WithPassword_Authenticates()
    {
        await using var connection = await RedisTestConnections.ConnectAsync(_redis.Configuration + ",password=s3cret");

        Assert.Equal("PONG", (await connection.ExecuteAsync("PING").WaitAsync(Timeout)).ToString());
    }

    [Fact]
    public async Task Connect_WithUserAndPassword_AuthenticatesAsThatUser()
    {
        Assert.Contains("OK", await _redis.CommandAsync("ACL SETUSER edge on >edgepw ~* +@all", password: "s3cret"));
        await using var connection = await RedisTestConnections.ConnectAsync(_redis.Configuration + ",user=edge,password=edgepw");

        var whoami = await connection.ExecuteAsync("ACL", "WHOAMI").WaitAsync(Timeout);

        Assert.Equal("edge", whoami.ToString());
    }

    [Fact]
    public async Task Connect_WithWrongPassword_StaysDisconnectedAndSaysWhy()
    {
        await using var connection = RedisTestConnections.Create(_redis.Configuration + ",password=wrong", static o => o.ConnectTimeout = TimeSpan.FromMilliseconds(500));
        connection.Start();

        var connected = connection.WhenConnectedAsync();
        var timeout = await Assert.ThrowsAsync<TimeoutException>(() => connected.WaitAsync(TimeSpan.FromSeconds(1)));

        Assert.NotNull(timeout);
        Assert.False(connection.IsConnected);
        Assert.Contains("AUTH", await RedisTestConnections.LastErrorAsync(connection));
    }
}

public sealed class RedisConnectionFailureTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = RedisTestConnections.Timeout;
    private RedisServerFixture _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServerFixture.StartAsync();

    public Task DisposeAsync() => _redis.DisposeAsync();

    [Fact]
    public async Task Kill_FailsPendingCommandsAndDisconnects_ThenRestartReconnects()
    {
        await using var connection = await RedisTestConnections.ConnectAsync(_redis.Configuration);
        await connection.ExecuteAsync("SET", "k", "before").WaitAsync(Timeout);

        // A command still waiting when the server dies fails instead of hanging.
        var blocked = connection.ExecuteAsync("BLPOP", "nothing", 0);
        _redis.Kill();

        await Assert.ThrowsAsync<RedisConnectionException>(() => blocked.WaitAsync(Timeout));
        Assert.False(connection.IsConnected);
        await Assert.ThrowsAsync<RedisConnectionException>(() => connection.ExecuteAsync("GET", "k").WaitAsync(Timeout));

        await _redis.RestartAsync();
        await connection.WhenConnectedAsync().WaitAsync(Timeout);

        Assert.True(connection.IsConnected);
        Assert.True((await connection.ExecuteAsync("GET", "k").WaitAsync(Timeout)).IsNull, "The restarted server starts empty.");
        Assert.Equal("PONG", (await connection.ExecuteAsync("PING").WaitAsync(Timeout)).ToString());
    }

    [Fact]
    public async Task ReplyLaterThanCommandTimeout_FailsTheCommandAndReconnects()
    {
        await using var connection = await RedisTestConnections.ConnectAsync(_redis.Configuration, o => o.CommandTimeout = TimeSpan.FromMilliseconds(200));

        // Pause every other client for 1.5 s: our command gets no reply in time.
        Assert.Contains("OK", await _redis.CommandAsync("CLIENT PAUSE 1500 ALL"));
        var started = DateTime.UtcNow;
        var failure = await Assert.ThrowsAsync<RedisConnectionException>(() => connection.ExecuteAsync("PING").WaitAsync(Timeout));
        var elapsed = DateTime.UtcNow - started;

        Assert.Contains("did not answer", failure.Message);
        Assert.True(elapsed < TimeSpan.FromMilliseconds(1400), $"The timeout fired after {elapsed}, not before the pause ended.");
        await connection.WhenConnectedAsync().WaitAsync(Timeout);
        Assert.Equal("PONG", (await connection.ExecuteAsync("PING").WaitAsync(Timeout)).ToString());
    }
}
