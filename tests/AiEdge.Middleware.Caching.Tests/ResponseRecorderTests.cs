using System.Text;
using AiEdge.Middleware.Caching.Internal;
using AiEdge.Middleware.Internal;
using Microsoft.Extensions.Primitives;

namespace AiEdge.Middleware.Caching.Tests;

public sealed class ResponseRecorderTests
{
    private static readonly byte[] Done = "data: [DONE]"u8.ToArray();

    [Theory]
    [InlineData("data: a\n\ndata: [DONE]\n\n", new[] { 9, 23 })]
    [InlineData("data: a\r\n\r\ndata: [DONE]\r\n\r\n", new[] { 11, 27 })]
    [InlineData("event: x\ndata: a\n\ndata: [DONE]\n\n", new[] { 18, 32 })]
    [InlineData("data: [DONE]\n\n", new[] { 14 })]
    public void FindCompletedEvents_CompletedStream_GivesEventEnds(string body, int[] expected)
        => Assert.Equal(expected, ResponseRecorder.FindCompletedEvents(Encoding.UTF8.GetBytes(body), Done));

    [Theory]
    [InlineData("data: a\n\n")]
    [InlineData("data: a\n\ndata: [DONE]")]
    [InlineData("data: [DONE]\n\ndata: late\n\n")]
    [InlineData("data: [DONE]x\n\n")]
    [InlineData("")]
    public void FindCompletedEvents_IncompleteStream_IsNull(string body)
        => Assert.Null(ResponseRecorder.FindCompletedEvents(Encoding.UTF8.GetBytes(body), Done));

    [Theory]
    [InlineData(-5.0, "0")]
    [InlineData(0.0, "0")]
    [InlineData(0.999, "0")]
    [InlineData(42.7, "42")]
    [InlineData(3599.0, "3599")]
    [InlineData(3600.0, "3600")]
    [InlineData(864000.0, "864000")]
    public void FormatAge_GivesWholeNonNegativeSeconds(double seconds, string expected)
        => Assert.Equal(expected, ResponseRecorder.FormatAge(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void FormatAge_BelowAnHour_ReusesOneString()
        => Assert.Same(ResponseRecorder.FormatAge(TimeSpan.FromSeconds(120)), ResponseRecorder.FormatAge(TimeSpan.FromSeconds(120.5)));

    [Fact]
    public void CachedResponse_SerializeRoundTrips()
    {
        var now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var original = new CachedResponse(
            201,
            [new("Content-Type", "text/event-stream"), new("X-Multi", new StringValues(["a", "é"]))],
            "data: x\n\ndata: [DONE]\n\n"u8.ToArray(),
            [9, 23],
            now,
            now.AddMinutes(1),
            now.AddMinutes(2));

        Assert.True(CachedResponse.TryDeserialize(original.Serialize(), out var copy));
        Assert.Equal(201, copy!.StatusCode);
        Assert.Equal(original.Body, copy.Body);
        Assert.Equal(original.EventEnds, copy.EventEnds);
        Assert.Equal(original.StaleUntil, copy.StaleUntil);
        Assert.Equal(new[] { "a", "é" }, (string[])copy.Headers[1].Value!);
        Assert.False(CachedResponse.TryDeserialize(original.Serialize().AsSpan(0, 20), out _));
        Assert.False(CachedResponse.TryDeserialize([9, 9, 9], out _));
    }
}
