using System.Text.RegularExpressions;
using AiEdge.Middleware.Authentication.Internal;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.AspNetCore.Http;

namespace AiEdge.Middleware.Authentication.Tests;

public sealed partial class CredentialReaderTests
{
    [Theory]
    [InlineData(null, null, "None", null)]
    [InlineData("Bearer abc.def-ghi_~+/==", null, "Bearer", "abc.def-ghi_~+/==")]
    [InlineData("bEaReR abc", null, "Bearer", "abc")]
    [InlineData("Basic abc=", null, "Foreign", null)]
    [InlineData("abc", null, "Foreign", null)]
    [InlineData("Bearer", null, "Malformed", null)]
    [InlineData("Bearer a=b", null, "Malformed", null)]
    [InlineData("", null, "Malformed", null)]
    [InlineData(null, "key-1", "ApiKey", "key-1")]
    [InlineData("Basic abc=", "key-1", "ApiKey", "key-1")]
    [InlineData("Bearer abc", "key-1", "Malformed", null)]
    [InlineData(null, "key 1", "Malformed", null)]
    public void Read_HeaderShapes_AreClassified(string? authorization, string? apiKey, string expectedKind, string? value)
    {
        var context = new DefaultHttpContext();
        if (authorization is not null)
        {
            context.Request.Headers.Authorization = authorization;
        }

        if (apiKey is not null)
        {
            context.Request.Headers["X-API-Key"] = apiKey;
        }

        var credential = CredentialReader.Read(context.Request, "X-API-Key");
        var kind = Enum.Parse<CredentialKind>(expectedKind);

        Assert.Equal(kind, credential.Kind);
        if (value is not null)
        {
            Assert.Equal(value, credential.Value.ToString());
        }

        Assert.Equal(kind == CredentialKind.Malformed, credential.Failure is not null);
    }

    [Fact]
    public void IsToken68_AgreesWithTheRfcGrammar_ForAnyString()
    {
        Prop.ForAll(
            Arb.From(Gen.Elements("aZ09-._~+/= \t\"\u00e9\r\n,".ToCharArray()).ArrayOf().Select(static chars => new string(chars))),
            static value => CredentialReader.IsToken68(value) == Token68().IsMatch(value))
            .QuickCheckThrowOnFailure();
    }

    [Theory]
    [InlineData("abc\n")]
    [InlineData("abc\r\nX-Injected: 1")]
    [InlineData("=abc")]
    [InlineData("ab=c")]
    [InlineData("")]
    public void IsToken68_RefusesNewlinesAndMisplacedPadding(string value)
        => Assert.False(CredentialReader.IsToken68(value));

    [Fact]
    public void LooksLikeJwt_CountsExactlyTwoDots()
    {
        Assert.True(AuthenticationSettings.LooksLikeJwt("a.b.c"));
        Assert.False(AuthenticationSettings.LooksLikeJwt("abc"));
        Assert.False(AuthenticationSettings.LooksLikeJwt("a.b.c.d.e"));
    }

    [GeneratedRegex("\\A[A-Za-z0-9\\-._~+/]+=*\\z")]
    private static partial Regex Token68();
}
