using System.Diagnostics;
using AiEdge.Middleware.Redis.Internal;
using AiEdge.Middleware.Testing;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace AiEdge.Middleware.Redis.Tests;

/// <summary>AiEdge's Redis calls are client spans with the database semantic conventions, seen by an OpenTelemetry exporter.</summary>
public sealed class RedisTracingTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private static readonly TimeSpan Timeout = RedisTestConnections.Timeout;

    [Fact]
    public async Task RedisCalls_AreClientSpansWithSemanticConventionAttributes_AndErrorsCarryTheirType()
    {
        var exported = new List<Activity>();
        using (Sdk.CreateTracerProviderBuilder().AddSource(AiEdgeDiagnostics.ActivitySourceName).AddInMemoryExporter(exported).Build())
        {
            await using var connection = await RedisTestConnections.ConnectAsync(redis.Configuration);
            var script = new RedisScript("trace", "return 1");

            await connection.EvaluateAsync(script, ["traced"], []).WaitAsync(Timeout);
            await Assert.ThrowsAsync<RedisConnectionException>(() => connection.ExecuteAsync("NOSUCHCOMMAND").WaitAsync(Timeout));
        }

        // Other tests run at the same time on the same activity source: keep this server's spans.
        exported = [.. exported.Where(a => Equals(a.GetTagItem("server.port"), redis.Port))];
        var ok = Assert.Single(exported, static a => a.OperationName == "EVALSHA");
        Assert.Equal(ActivityKind.Client, ok.Kind);
        Assert.Equal("redis", ok.GetTagItem("db.system.name"));
        Assert.Equal("EVALSHA", ok.GetTagItem("db.operation.name"));
        Assert.Equal("127.0.0.1", ok.GetTagItem("server.address"));
        Assert.Equal(redis.Port, ok.GetTagItem("server.port"));
        Assert.Null(ok.GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Unset, ok.Status);

        var failed = Assert.Single(exported, static a => a.OperationName == "NOSUCHCOMMAND");
        Assert.Equal("ERR", failed.GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Error, failed.Status);
    }
}
