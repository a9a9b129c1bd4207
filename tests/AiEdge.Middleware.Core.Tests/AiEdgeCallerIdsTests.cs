using System.Globalization;
using System.Security.Claims;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.AspNetCore.Http;

namespace AiEdge.Middleware.Core.Tests;

/// <summary>
/// Caller ids: which identity maps to which source, and a proof by property that the encoding is one-to-one (a
/// decoder written from the documented grammar reads every id back to its source and values).
/// </summary>
public sealed class AiEdgeCallerIdsTests
{
    private const string Issuer = "https://issuer.example";

    /// <summary>Characters chosen to break a naive encoding: separators, digits, tags, NUL, lone and paired surrogates, U+FFFD.</summary>
    private static readonly char[] Alphabet = ":!0123456789keyjwtapclm \0\uD800\uDBFF\uDC00\uDFFF\uFFFD\u00E9%".ToCharArray();

    private static Gen<string> Values => Gen.Elements(Alphabet).ArrayOf().Select(static chars => new string(chars));

    private static Gen<(int Source, string A, string B, string C)> Triples =>
        from source in Gen.Choose(0, 3)
        from a in Values
        from b in Values
        from c in Values
        select (source, a, b, c);

    [Fact]
    public void Encoding_ReadsBackToItsSourceAndValues_ForAnyValues()
    {
        Prop.ForAll(Arb.From(Triples), static t => Decode(Encode(t)) == Canonical(t))
            .Check(Config.QuickThrowOnFailure.WithMaxTest(5000));
    }

    [Fact]
    public void Encoding_DifferentTriples_NeverCollide_NotEvenInUtf8()
    {
        Prop.ForAll(Arb.From(Triples), Arb.From(Triples), static (x, y) =>
        {
            var same = Canonical(x) == Canonical(y);
            var a = Encode(x);
            var b = Encode(y);
            return same == (a == b) && same == Encoding.UTF8.GetBytes(a).AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(b));
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(5000));
    }

    [Fact]
    public void Encoding_IsAlwaysWellFormedUtf16()
    {
        var strict = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        Prop.ForAll(Arb.From(Triples), t =>
        {
            var id = Encode(t);
            return strict.GetString(strict.GetBytes(id)) == id;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(2000));
    }

    [Theory]
    [InlineData("pro-app", "key:pro-app")]
    [InlineData("", "key:")]
    [InlineData("a:b", "key:a:b")]
    public void ApiKey_IsTagAndName(string name, string expected)
        => Assert.Equal(expected, AiEdgeCallerIds.ApiKey(name));

    [Fact]
    public void Values_WithAnUnpairedSurrogate_AreWrittenAsHex()
    {
        Assert.Equal("key!D800", AiEdgeCallerIds.ApiKey(new string('\uD800', 1)));
        Assert.Equal("jwt:4!DC00:x", AiEdgeCallerIds.Jwt(new string('\uDC00', 1), "x"));
        Assert.Equal("key:\uD83D\uDE00", AiEdgeCallerIds.ApiKey("\uD83D\uDE00"));
    }

    [Fact]
    public void Jwt_PrefixesTheIssuerWithItsLength()
    {
        Assert.Equal("jwt:22:https://issuer.example:user-42", AiEdgeCallerIds.Jwt(Issuer, "user-42"));
        Assert.NotEqual(AiEdgeCallerIds.Jwt("a:", "b"), AiEdgeCallerIds.Jwt("a", ":b"));
        Assert.NotEqual(AiEdgeCallerIds.Jwt("\uD800", "x"), AiEdgeCallerIds.Jwt("\uFFFD", "x"));
    }

    [Fact]
    public void From_ApiKeyIdentity_IsTheKeyName()
        => Assert.Equal("key:pro-app", AiEdgeCallerIds.From(ApiKeyIdentity("pro-app")));

    [Fact]
    public void From_JwtCarryingApiKeyClaims_IsNeverTheKey()
    {
        var withoutSubject = new ClaimsIdentity(
            [new Claim(AiEdgeClaimTypes.ApiKeyName, "pro-app", ClaimValueTypes.String, Issuer), new Claim(ClaimTypes.NameIdentifier, "pro-app", ClaimValueTypes.String, Issuer)],
            AiEdgeAuthenticationTypes.JwtBearer);
        var withSubject = new ClaimsIdentity(
            [new Claim(AiEdgeClaimTypes.ApiKeyName, "pro-app", ClaimValueTypes.String, Issuer), new Claim("sub", "pro-app", ClaimValueTypes.String, Issuer)],
            AiEdgeAuthenticationTypes.JwtBearer);

        Assert.Null(AiEdgeCallerIds.From(withoutSubject));
        Assert.Equal("jwt:22:https://issuer.example:pro-app", AiEdgeCallerIds.From(withSubject));
    }

    [Fact]
    public void From_ApiKeyClaimNotIssuedByTheApiKeyScheme_IsNotTheKey()
    {
        // Even an identity typed as an API key does not count when its key claim came from elsewhere.
        var forged = new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, "pro-app", ClaimValueTypes.String, Issuer), new Claim(AiEdgeClaimTypes.ApiKeyName, "pro-app", ClaimValueTypes.String, Issuer)],
            AiEdgeAuthenticationTypes.ApiKey);
        var cookie = new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, "pro-app"), new Claim(AiEdgeClaimTypes.ApiKeyName, "pro-app", ClaimValueTypes.String, AiEdgeAuthenticationTypes.ApiKey)],
            "Cookies");

        Assert.NotEqual("key:pro-app", AiEdgeCallerIds.From(forged));
        Assert.Equal("app:7:Cookies15:LOCAL AUTHORITY:pro-app", AiEdgeCallerIds.From(cookie));
    }

    [Fact]
    public void From_AnonymousOrNamelessIdentity_IsNull()
    {
        Assert.Null(AiEdgeCallerIds.From(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, "alice")])));
        Assert.Null(AiEdgeCallerIds.From(new ClaimsIdentity([new Claim("role", "x")], "Cookies")));
    }

    [Fact]
    public void GetCallerId_AnonymousRequest_AllocatesNothing()
    {
        var context = new DefaultHttpContext();
        context.GetCallerId();

        var before = GC.GetAllocatedBytesForCurrentThread();
        var id = context.GetCallerId();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Null(id);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void GetCallerId_IsComputedOncePerPrincipal_AndFollowsANewPrincipal()
    {
        var context = new DefaultHttpContext { User = new ClaimsPrincipal(ApiKeyIdentity("pro-app")) };

        var first = context.GetCallerId();
        var before = GC.GetAllocatedBytesForCurrentThread();
        var second = context.GetCallerId();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        context.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", "pro-app", ClaimValueTypes.String, Issuer)], AiEdgeAuthenticationTypes.JwtBearer));
        var replaced = context.GetCallerId();

        Assert.Same(first, second);
        Assert.Equal(0, allocated);
        Assert.Equal("key:pro-app", first);
        Assert.Equal("jwt:22:https://issuer.example:pro-app", replaced);
    }

    [Fact]
    public void GetCallerApiKeyName_OnlyForApiKeyIdentities()
    {
        var key = new DefaultHttpContext { User = new ClaimsPrincipal(ApiKeyIdentity("pro-app")) };
        var jwt = new DefaultHttpContext
        {
            User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(AiEdgeClaimTypes.ApiKeyName, "pro-app", ClaimValueTypes.String, Issuer)], AiEdgeAuthenticationTypes.JwtBearer)),
        };

        Assert.Equal("pro-app", key.GetCallerApiKeyName());
        Assert.Null(jwt.GetCallerApiKeyName());
        Assert.Null(new DefaultHttpContext().GetCallerApiKeyName());
    }

    private static ClaimsIdentity ApiKeyIdentity(string name) => new(
        [
            new Claim(ClaimTypes.NameIdentifier, name, ClaimValueTypes.String, AiEdgeAuthenticationTypes.ApiKey),
            new Claim(AiEdgeClaimTypes.ApiKeyName, name, ClaimValueTypes.String, AiEdgeAuthenticationTypes.ApiKey),
        ],
        AiEdgeAuthenticationTypes.ApiKey);

    private static string Encode((int Source, string A, string B, string C) t) => t.Source switch
    {
        0 => AiEdgeCallerIds.ApiKey(t.C),
        1 => AiEdgeCallerIds.Jwt(t.B, t.C),
        2 => AiEdgeCallerIds.Scheme(t.A, t.B, t.C),
        _ => AiEdgeCallerIds.Claim(t.B, t.C),
    };

    /// <summary>The values a source actually encodes (an API key has only a name, a JWT no authentication type).</summary>
    private static (int, string?, string?, string) Canonical((int Source, string A, string B, string C) t) => t.Source switch
    {
        0 => (0, null, null, t.C),
        1 => (1, null, t.B, t.C),
        2 => (2, t.A, t.B, t.C),
        _ => (3, null, t.B, t.C),
    };

    /// <summary>Reads an id back by the grammar documented on <see cref="AiEdgeCallerIds"/>.</summary>
    private static (int, string?, string?, string) Decode(string id)
    {
        var at = 3;
        switch (id[..3])
        {
            case "key":
                return (0, null, null, Last(id, at));
            case "jwt":
                Assert.Equal(':', id[at++]);
                var jwtIssuer = Field(id, ref at);
                return (1, null, jwtIssuer, Last(id, at));
            case "app":
                Assert.Equal(':', id[at++]);
                var type = Field(id, ref at);
                var issuer = Field(id, ref at);
                return (2, type, issuer, Last(id, at));
            case "clm":
                Assert.Equal(':', id[at++]);
                var claimIssuer = Field(id, ref at);
                return (3, null, claimIssuer, Last(id, at));
            default:
                throw new InvalidOperationException("Unknown source tag in " + id);
        }
    }

    private static string Field(string id, ref int at)
    {
        var start = at;
        while (char.IsAsciiDigit(id[at]))
        {
            at++;
        }

        var length = int.Parse(id.AsSpan(start, at - start), CultureInfo.InvariantCulture);
        var hex = id[at++] == '!';
        var raw = id.Substring(at, length);
        at += length;
        return hex ? FromHex(raw) : raw;
    }

    private static string Last(string id, int at)
        => id[at] == '!' ? FromHex(id[(at + 1)..]) : id[(at + 1)..];

    private static string FromHex(string hex)
    {
        var chars = new char[hex.Length / 4];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = (char)ushort.Parse(hex.AsSpan(i * 4, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }

        return new string(chars);
    }
}
