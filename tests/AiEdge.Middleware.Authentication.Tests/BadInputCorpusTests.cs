using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.IdentityModel.Tokens;
using static AiEdge.Middleware.Authentication.Tests.AuthTestHost;

namespace AiEdge.Middleware.Authentication.Tests;

/// <summary>
/// Hostile and broken credentials through a real host: each gets its 400/401 problem, with a fixed
/// <c>WWW-Authenticate</c> that echoes nothing, and the app keeps serving valid callers afterwards.
/// </summary>
public sealed class BadInputCorpusTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>name → bearer token, expected status, expected reason text in the problem detail.</summary>
    public static TheoryData<string, HttpStatusCode, string> Tokens()
    {
        var rsaPemBytes = Encoding.ASCII.GetBytes(TestKeys.RsaPublicPem);
        var valid = TestKeys.Token();
        var parts = valid.Split('.');
        var payloadJson = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1]));
        var elevated = Base64UrlEncoder.Encode(payloadJson.Replace("user-42", "admin-1", StringComparison.Ordinal));

        return new TheoryData<string, HttpStatusCode, string>
        {
            { TestKeys.Token(expires: TestKeys.Now.AddMinutes(-5), notBefore: TestKeys.Now.AddHours(-1)), HttpStatusCode.Unauthorized, "The token is expired." },
            { TestKeys.Token(notBefore: TestKeys.Now.AddMinutes(5), expires: TestKeys.Now.AddHours(1)), HttpStatusCode.Unauthorized, "The token is not valid yet." },
            { TestKeys.Token(withExpiry: false), HttpStatusCode.Unauthorized, "The token has no expiration time." },
            { TestKeys.Token(audience: "another-api"), HttpStatusCode.Unauthorized, "The token's audience is not accepted." },
            { TestKeys.Token(issuer: "https://evil.example"), HttpStatusCode.Unauthorized, "The token's issuer is not accepted." },
            { TestKeys.Token(new SigningCredentials(new RsaSecurityKey(TestKeys.OtherRsa), SecurityAlgorithms.RsaSha256)), HttpStatusCode.Unauthorized, "The token's signature is not valid." },
            { TestKeys.Token(new SigningCredentials(new SymmetricSecurityKey(TestKeys.OtherSecret), SecurityAlgorithms.HmacSha256)), HttpStatusCode.Unauthorized, "The token's signature is not valid." },
            // alg: none, with and without a trailing signature segment.
            { TestKeys.Handmade(new { alg = "none", typ = "JWT" }, TestKeys.ValidPayload), HttpStatusCode.Unauthorized, "The token is not signed." },
            { TestKeys.Handmade(new { alg = "None", typ = "JWT" }, TestKeys.ValidPayload, static _ => [1, 2, 3]), HttpStatusCode.Unauthorized, "The token's signature is not valid." },
            // HS256 "signed" with the RSA public key (PEM bytes, then DER bytes) as the HMAC secret: key confusion.
            { TestKeys.Handmade(new { alg = "HS256", typ = "JWT" }, TestKeys.ValidPayload, input => HMACSHA256.HashData(rsaPemBytes, input)), HttpStatusCode.Unauthorized, "The token's signature is not valid." },
            { TestKeys.Handmade(new { alg = "HS256", typ = "JWT" }, TestKeys.ValidPayload, static input => HMACSHA256.HashData(TestKeys.Rsa.ExportSubjectPublicKeyInfo(), input)), HttpStatusCode.Unauthorized, "The token's signature is not valid." },
            // An unknown algorithm and an RSA algorithm over an HMAC signature.
            { TestKeys.Handmade(new { alg = "HS1", typ = "JWT" }, TestKeys.ValidPayload, static input => HMACSHA256.HashData(TestKeys.Secret, input)), HttpStatusCode.Unauthorized, "The token's signature is not valid." },
            { TestKeys.Handmade(new { alg = "RS256", typ = "JWT" }, TestKeys.ValidPayload, static input => HMACSHA256.HashData(TestKeys.Secret, input)), HttpStatusCode.Unauthorized, "The token's signature is not valid." },
            // Tampered payload under the original signature; signature stripped.
            { parts[0] + "." + elevated + "." + parts[2], HttpStatusCode.Unauthorized, "The token's signature is not valid." },
            { parts[0] + "." + parts[1] + ".", HttpStatusCode.Unauthorized, "The token is not signed." },
            // Garbage segments.
            { "a.b.c", HttpStatusCode.Unauthorized, "The token is not a well-formed signed JWT." },
            { "eyJhbGciOiJSUzI1NiJ9.%%%.sig", HttpStatusCode.BadRequest, "The Authorization header is malformed: expected 'Bearer <token>' with a single space and token characters only." },
            { "eyJ9.eyJ9.eyJ9", HttpStatusCode.Unauthorized, "The token is not a well-formed signed JWT." },
            { Base64UrlEncoder.Encode("{\"alg\":\"RS256\"") + "." + parts[1] + "." + parts[2], HttpStatusCode.Unauthorized, "The token is not a well-formed signed JWT." },
            { "..", HttpStatusCode.Unauthorized, "The token is not a well-formed signed JWT." },
            // JWE-shaped (five parts) and huge tokens.
            { "a.b.c.d.e", HttpStatusCode.Unauthorized, "The API key is not valid." },
            { parts[0] + "." + new string('A', 100_000) + "." + parts[2], HttpStatusCode.Unauthorized, "The token is larger than accepted." },
        };
    }

    [Theory]
    [MemberData(nameof(Tokens))]
    public async Task BadToken_GetsItsProblem_AndTheAppKeepsServing(string token, HttpStatusCode status, string detail)
    {
        await using var app = await StartAsync();

        using var open = await app.Client.SendAsync(Get("/open", bearer: token)).WaitAsync(Timeout);
        using var scoped = await app.Client.SendAsync(Get("/predict", bearer: token)).WaitAsync(Timeout);

        foreach (var response in new[] { open, scoped })
        {
            var problem = await ProblemAssert.IsProblemAsync(response, status);
            Assert.Equal(detail, problem.GetProperty("detail").GetString());
            var challenge = Challenge(response);
            Assert.StartsWith(status == HttpStatusCode.BadRequest ? "Bearer error=\"invalid_request\"" : "Bearer error=\"invalid_token\"", challenge);
            Assert.DoesNotContain(token.Length > 20 ? token[..20] : token, challenge!, StringComparison.Ordinal);
        }

        await AssertStillServingAsync(app);
    }

    /// <summary>Authorization header values sent raw: expected status (400 malformed, 401 not ours on a protected endpoint).</summary>
    public static TheoryData<string, HttpStatusCode, HttpStatusCode> AuthorizationHeaders() => new()
    {
        // value, on /open, on /predict
        { "", HttpStatusCode.BadRequest, HttpStatusCode.BadRequest },
        { "Bearer", HttpStatusCode.BadRequest, HttpStatusCode.BadRequest },
        { "Bearer ", HttpStatusCode.BadRequest, HttpStatusCode.BadRequest },
        { "bearer", HttpStatusCode.BadRequest, HttpStatusCode.BadRequest },
        { "Bearer  " + TestKeys.ProKey, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest },
        { "Bearer " + TestKeys.ProKey + " ", HttpStatusCode.BadRequest, HttpStatusCode.BadRequest },
        { "Bearer " + TestKeys.ProKey + " extra", HttpStatusCode.BadRequest, HttpStatusCode.BadRequest },
        { "Bearer\t" + TestKeys.ProKey, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest },
        { "Bearer \"" + TestKeys.ProKey + "\"", HttpStatusCode.BadRequest, HttpStatusCode.BadRequest },
        { "Bearer sk_test_pro_\u00e9\u00e8", HttpStatusCode.BadRequest, HttpStatusCode.BadRequest },
        { "Bearer tok=en", HttpStatusCode.BadRequest, HttpStatusCode.BadRequest },
        { "Bearer ====", HttpStatusCode.BadRequest, HttpStatusCode.BadRequest },
        // No scheme, unknown schemes: not ours; anonymous endpoints serve, protected ones challenge.
        { TestKeys.ProKey, HttpStatusCode.OK, HttpStatusCode.Unauthorized },
        { "Basic dXNlcjpwYXNz", HttpStatusCode.OK, HttpStatusCode.Unauthorized },
        { "Token " + TestKeys.ProKey, HttpStatusCode.OK, HttpStatusCode.Unauthorized },
        { "BearerX " + TestKeys.ProKey, HttpStatusCode.OK, HttpStatusCode.Unauthorized },
        { "Digest username=\"a\", realm=\"b\"", HttpStatusCode.OK, HttpStatusCode.Unauthorized },
        // Case-insensitive scheme (RFC 9110), valid key.
        { "bearer " + TestKeys.ProKey, HttpStatusCode.OK, HttpStatusCode.OK },
        { "BEARER " + TestKeys.ProKey, HttpStatusCode.OK, HttpStatusCode.OK },
        // Header injection and control characters.
        { "Bearer " + TestKeys.ProKey + "\r\nX-Injected: 1", HttpStatusCode.BadRequest, HttpStatusCode.BadRequest },
        { "Bearer " + TestKeys.ProKey + "\nSet-Cookie: a=b", HttpStatusCode.BadRequest, HttpStatusCode.BadRequest },
        { "Bearer " + TestKeys.ProKey + "\0", HttpStatusCode.BadRequest, HttpStatusCode.BadRequest },
        { "Basic \u00ff\u00fe", HttpStatusCode.BadRequest, HttpStatusCode.BadRequest },
        { "\r\nX-Injected: 1", HttpStatusCode.BadRequest, HttpStatusCode.BadRequest },
    };

    [Theory]
    [MemberData(nameof(AuthorizationHeaders))]
    public async Task RawAuthorizationHeader_GetsTheRightAnswer(string value, HttpStatusCode onOpen, HttpStatusCode onScoped)
    {
        await using var app = await StartAsync();

        var open = await SendRawAsync(app, "/open", ("Authorization", value));
        var scoped = await SendRawAsync(app, "/predict", ("Authorization", value));

        AssertAnswer(open, onOpen);
        AssertAnswer(scoped, onScoped);
        Assert.False(open.Headers.ContainsKey("X-Injected"));
        Assert.False(open.Headers.ContainsKey("Set-Cookie"));
        await AssertStillServingAsync(app);
    }

    public static TheoryData<string[], HttpStatusCode> ApiKeyHeaders() => new()
    {
        { [""], HttpStatusCode.BadRequest },
        { [" "], HttpStatusCode.BadRequest },
        { [TestKeys.ProKey + " "], HttpStatusCode.BadRequest },
        { [TestKeys.ProKey + "\r\nX-Injected: 1"], HttpStatusCode.BadRequest },
        { ["sk_\u00e9t\u00e9"], HttpStatusCode.BadRequest },
        { [TestKeys.ProKey, TestKeys.ProKey], HttpStatusCode.BadRequest },
        { [TestKeys.ProKey.ToUpperInvariant()], HttpStatusCode.Unauthorized },
        { [TestKeys.ProKey[..^1]], HttpStatusCode.Unauthorized },
        { [new string('k', 10_000)], HttpStatusCode.Unauthorized },
        { [TestKeys.ProKey], HttpStatusCode.OK },
    };

    [Theory]
    [MemberData(nameof(ApiKeyHeaders))]
    public async Task RawApiKeyHeader_GetsTheRightAnswer(string[] values, HttpStatusCode expected)
    {
        await using var app = await StartAsync();

        var response = await SendRawAsync(app, "/predict", ("X-API-Key", values));

        AssertAnswer(response, expected);
        Assert.False(response.Headers.ContainsKey("X-Injected"));
        await AssertStillServingAsync(app);
    }

    [Theory]
    [InlineData("Authorization")]
    [InlineData("Both")]
    public async Task DuplicateOrMixedCredentials_Are400InvalidRequest(string shape)
    {
        await using var app = await StartAsync();

        var response = shape == "Both"
            ? await SendRawAsync(app, "/predict", ("X-API-Key", [TestKeys.ProKey]), ("Authorization", ["Bearer " + TestKeys.ProKey]))
            : await SendRawAsync(app, "/predict", ("Authorization", ["Bearer " + TestKeys.ProKey, "Bearer " + TestKeys.AdminKey]));

        AssertAnswer(response, HttpStatusCode.BadRequest);
        Assert.StartsWith("Bearer error=\"invalid_request\"", response.Headers.WWWAuthenticate.ToString(), StringComparison.Ordinal);
    }

    private static void AssertAnswer(RawResponse response, HttpStatusCode expected)
    {
        Assert.Equal((int)expected, response.StatusCode);
        if (expected == HttpStatusCode.OK)
        {
            return;
        }

        Assert.Equal("application/problem+json", response.ContentType?.Split(';')[0]);
        using var document = JsonDocument.Parse(response.Body);
        Assert.Equal((int)expected, document.RootElement.GetProperty("status").GetInt32());
        var challenge = response.Headers.WWWAuthenticate.ToString();
        Assert.StartsWith("Bearer", challenge, StringComparison.Ordinal);
        Assert.DoesNotContain('\r', challenge);
        Assert.DoesNotContain('\n', challenge);
        Assert.DoesNotContain("sk_", challenge, StringComparison.Ordinal);
        if (expected == HttpStatusCode.BadRequest)
        {
            Assert.StartsWith("Bearer error=\"invalid_request\"", challenge, StringComparison.Ordinal);
        }
    }

    private static async Task AssertStillServingAsync(TestApp app)
    {
        using var response = await app.Client.SendAsync(Get("/predict", apiKey: TestKeys.ProKey)).WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var jwt = await app.Client.SendAsync(Get("/predict", bearer: TestKeys.Token(claims: new Dictionary<string, object> { ["scope"] = "predict" }))).WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.OK, jwt.StatusCode);
    }

    private sealed record RawResponse(int StatusCode, string? ContentType, Microsoft.AspNetCore.Http.IHeaderDictionary Headers, string Body);

    private static Task<RawResponse> SendRawAsync(TestApp app, string path, (string Name, string Value) header)
        => SendRawAsync(app, path, (header.Name, [header.Value]));

    /// <summary>Sends header values exactly as given (no client-side validation), through the TestServer.</summary>
    private static async Task<RawResponse> SendRawAsync(TestApp app, string path, params (string Name, string[] Values)[] headers)
    {
        var context = await app.App.GetTestServer().SendAsync(context =>
        {
            context.Request.Method = "GET";
            context.Request.Path = path;
            foreach (var (name, values) in headers)
            {
                context.Request.Headers[name] = values;
            }
        }).WaitAsync(Timeout);

        using var reader = new StreamReader(context.Response.Body);
        var body = await reader.ReadToEndAsync();
        return new RawResponse(context.Response.StatusCode, context.Response.ContentType, context.Response.Headers, body);
    }
}
