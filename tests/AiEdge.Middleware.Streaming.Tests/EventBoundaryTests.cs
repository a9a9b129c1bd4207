using System.Text;
using AiEdge.Middleware.Internal;

namespace AiEdge.Middleware.Streaming.Tests;

public sealed class EventBoundaryTests
{
    [Theory]
    [InlineData(new string[0], true)]
    [InlineData(new[] { "data: x\n\n" }, true)]
    [InlineData(new[] { "data: x\n" }, false)]
    [InlineData(new[] { "data: x" }, false)]
    [InlineData(new[] { "data: x\n", "\n" }, true)]
    [InlineData(new[] { "data: x\r\n\r\n" }, true)]
    [InlineData(new[] { "data: x\r\n" }, false)]
    [InlineData(new[] { "data: x\r", "\n" }, false)]
    [InlineData(new[] { "data: x\r", "\n", "\r\n" }, true)]
    [InlineData(new[] { "data: x\r\r" }, true)]
    [InlineData(new[] { "data: x\n\n", "data: y" }, false)]
    [InlineData(new[] { "data: x\n\n", "event: e\n" }, false)]
    [InlineData(new[] { ": comment\n", "\n" }, true)]
    [InlineData(new[] { "data: x\n\n", "\n", "\n" }, true)]
    public void Observe_Writes_KnowsWhetherBetweenEvents(string[] writes, bool atBoundary)
    {
        var boundary = default(EventBoundary);
        foreach (var write in writes)
        {
            boundary.Observe(Encoding.UTF8.GetBytes(write));
        }

        Assert.Equal(atBoundary, boundary.AtBoundary);
    }
}
