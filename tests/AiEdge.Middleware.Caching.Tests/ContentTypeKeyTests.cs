using AiEdge.Middleware.Caching.Internal;
using AiEdge.Middleware.Internal;

namespace AiEdge.Middleware.Caching.Tests;

/// <summary>Which bodies are canonicalized: JSON in UTF-8 only; anything else is keyed on its raw bytes.</summary>
public sealed class ContentTypeKeyTests
{
    [Theory]
    [InlineData(null, true)]
    [InlineData("application/json", true)]
    [InlineData("application/json; charset=utf-8", true)]
    [InlineData("Application/JSON;Charset=\"UTF-8\"", true)]
    [InlineData("application/json; charset=utf-8; profile=x", true)]
    [InlineData("application/problem+json", true)]
    [InlineData("text/plain", false)]
    [InlineData("", false)]
    [InlineData("application/json; charset=iso-8859-1", false)]
    [InlineData("application/json; charset=utf-16", false)]
    [InlineData("application/json; charset=utf8", false)]
    [InlineData("application/json; charset=utf-8; charset=iso-8859-1", false)]
    [InlineData("application/json; charset=iso-8859-1; charset=utf-8", false)]
    [InlineData("application/json; charset", false)]
    [InlineData("application/json; charset=", false)]
    public void IsUtf8Json_OnlyForJsonInUtf8(string? contentType, bool expected)
    {
        Assert.Equal(expected, CacheLookup.IsUtf8Json(contentType));
    }
}
