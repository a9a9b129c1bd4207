using AiEdge.Middleware.Security.Internal;

namespace AiEdge.Middleware.Security.Tests;

public sealed class BodySizeParserTests
{
    [Theory]
    [InlineData("1", 1L)]
    [InlineData("1024", 1024L)]
    [InlineData("512k", 512L * 1024)]
    [InlineData("512K", 512L * 1024)]
    [InlineData("1m", 1024L * 1024)]
    [InlineData("10m", 10L * 1024 * 1024)]
    [InlineData("100M", 100L * 1024 * 1024)]
    [InlineData("1g", 1024L * 1024 * 1024)]
    [InlineData(" 8k ", 8L * 1024)]
    public void TryParse_NginxSizes_AreBinaryMultiples(string text, long expected)
    {
        Assert.True(BodySizeParser.TryParse(text, out var bytes));
        Assert.Equal(expected, bytes);
    }

    [Fact]
    public void TryParse_Zero_MeansNoLimit()
    {
        Assert.True(BodySizeParser.TryParse("0", out var bytes));
        Assert.Null(bytes);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("m")]
    [InlineData("10mb")]
    [InlineData("1.5m")]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData("1 m")]
    [InlineData("10t")]
    [InlineData("9999999999999g")]
    public void TryParse_Rejects_WhatNginxWouldNot(string? text) => Assert.False(BodySizeParser.TryParse(text, out _));

    [Theory]
    [InlineData(1024L * 1024, "1m")]
    [InlineData(100L * 1024 * 1024, "100m")]
    [InlineData(2048L, "2k")]
    [InlineData(1000L, "1000")]
    [InlineData(1024L * 1024 * 1024, "1g")]
    public void Format_RoundTrips(long bytes, string text)
    {
        Assert.Equal(text, BodySizeParser.Format(bytes));
        Assert.True(BodySizeParser.TryParse(text, out var parsed));
        Assert.Equal(bytes, parsed);
    }
}
