using System.Security.Cryptography;
using AiEdge.Middleware.Authentication;
using AiEdge.Middleware.Authentication.Internal;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AiEdge.Middleware.Benchmarks;

/// <summary>
/// One request through AiEdge authentication, as the host runs it (a DI scope per request, the endpoint's
/// metadata selected by routing). Baselines: the bare next delegate for the anonymous pass-through, and
/// <see cref="JsonWebTokenHandler.ValidateTokenAsync(string, TokenValidationParameters)"/> alone for JWTs.
/// </summary>
[MemoryDiagnoser]
public class AuthenticationBenchmarks
{
    private const string ApiKey = "sk_bench_0123456789abcdefghijklmnop";
    private static readonly RequestDelegate Next = static _ => Task.CompletedTask;

    private ServiceProvider _services = null!;
    private RequestDelegate _pipeline = null!;
    private Endpoint _anonymous = null!;
    private Endpoint _scoped = null!;
    private DefaultHttpContext _context = null!;
    private string _rsaToken = null!;
    private string _hmacToken = null!;
    private string _rsaHeader = null!;
    private string _hmacHeader = null!;
    private JsonWebTokenHandler _handler = null!;
    private TokenValidationParameters _parameters = null!;

    [GlobalSetup]
    public void Setup()
    {
        var rsa = RSA.Create(2048);
        var secret = RandomNumberGenerator.GetBytes(32);
        var now = DateTimeOffset.UtcNow;

        var services = new ServiceCollection();
        services.AddLogging(static logging => logging.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton<Microsoft.Extensions.Configuration.IConfiguration>(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build());
        services.AddAiEdgeCore(edge => edge.AddEdgeAuthentication(o =>
        {
            o.ApiKeys.Add("bench", ApiKeyHasher.ComputeHash(ApiKey), "pro", "predict");
            for (var i = 0; i < 1000; i++)
            {
                o.ApiKeys.Add("other-" + i, ApiKeyHasher.ComputeHash("sk_other_key_" + i));
            }

            o.Jwt.ValidIssuers.Add("https://issuer.example");
            o.Jwt.ValidAudiences.Add("model-api");
            o.Jwt.SigningKeys.Add(new JwtSigningKey { PublicKeyPem = rsa.ExportSubjectPublicKeyInfoPem() });
            o.Jwt.SigningKeys.Add(new JwtSigningKey { Secret = Convert.ToBase64String(secret) });
        }));
        _services = services.BuildServiceProvider();

        var app = new ApplicationBuilder(_services);
        app.UseMiddleware<EdgeAuthenticationMiddleware>();
        app.Run(Next);
        _pipeline = app.Build();

        _anonymous = new Endpoint(Next, new EndpointMetadataCollection(), "anonymous");
        _scoped = new Endpoint(Next, new EndpointMetadataCollection(new RequireScopesAttribute("predict")), "predict");
        _context = new DefaultHttpContext();

        var creator = new JsonWebTokenHandler();
        SecurityTokenDescriptor Descriptor(SigningCredentials credentials) => new()
        {
            Issuer = "https://issuer.example",
            Audience = "model-api",
            Expires = now.AddHours(1).UtcDateTime,
            NotBefore = now.AddMinutes(-1).UtcDateTime,
            Claims = new Dictionary<string, object> { ["sub"] = "user-1", ["scope"] = "predict generate", ["plan"] = "pro" },
            SigningCredentials = credentials,
        };
        _rsaToken = creator.CreateToken(Descriptor(new SigningCredentials(new RsaSecurityKey(rsa), SecurityAlgorithms.RsaSha256)));
        _hmacToken = creator.CreateToken(Descriptor(new SigningCredentials(new SymmetricSecurityKey(secret), SecurityAlgorithms.HmacSha256)));

        _rsaHeader = "Bearer " + _rsaToken;
        _hmacHeader = "Bearer " + _hmacToken;
        _handler = new JsonWebTokenHandler();
        _parameters = new TokenValidationParameters
        {
            ValidIssuer = "https://issuer.example",
            ValidAudience = "model-api",
            IssuerSigningKeys = [new RsaSecurityKey(rsa), new SymmetricSecurityKey(secret)],
        };

        // Measure what we mean to: the valid credentials pass, the unknown key is refused.
        Expect(200, ApiKey_Scoped());
        Expect(401, ApiKey_Unknown());
        Expect(200, Jwt_Rs256());
        Expect(200, Jwt_Hs256());
    }

    private static void Expect(int status, Task<int> run)
    {
        var actual = run.GetAwaiter().GetResult();
        if (actual != status)
        {
            throw new InvalidOperationException($"Expected {status}, got {actual}.");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _services.Dispose();

    private async Task<int> RunAsync(Endpoint endpoint, string? header, string? value)
    {
        var context = _context;
        context.Response.StatusCode = 200;
        context.Response.Headers.Clear();
        context.Response.Body = Stream.Null;
        context.Request.Headers.Clear();
        context.User = new System.Security.Claims.ClaimsPrincipal();
        if (header is not null)
        {
            context.Request.Headers[header] = value;
        }

        context.SetEndpoint(endpoint);
        await using var scope = _services.CreateAsyncScope();
        context.RequestServices = scope.ServiceProvider;
        await _pipeline(context);
        return context.Response.StatusCode;
    }

    [Benchmark(Baseline = true, Description = "next(context) only")]
    public Task Baseline_NextOnly()
    {
        _context.SetEndpoint(_anonymous);
        return Next(_context);
    }

    [Benchmark(Description = "anonymous endpoint, no credentials")]
    public Task Anonymous_NoCredentials()
    {
        _context.Request.Headers.Clear();
        _context.SetEndpoint(_anonymous);
        return _pipeline(_context);
    }

    [Benchmark(Description = "X-API-Key, scoped endpoint (1001 keys)")]
    public Task<int> ApiKey_Scoped() => RunAsync(_scoped, "X-API-Key", ApiKey);

    [Benchmark(Description = "unknown X-API-Key -> 401")]
    public Task<int> ApiKey_Unknown() => RunAsync(_scoped, "X-API-Key", "sk_bench_wrong_key_0000000000");

    [Benchmark(Description = "JWT RS256, scoped endpoint")]
    public Task<int> Jwt_Rs256() => RunAsync(_scoped, "Authorization", _rsaHeader);

    [Benchmark(Description = "JWT HS256, scoped endpoint")]
    public Task<int> Jwt_Hs256() => RunAsync(_scoped, "Authorization", _hmacHeader);

    [Benchmark(Description = "JsonWebTokenHandler RS256 alone")]
    public Task<TokenValidationResult> Library_Rs256() => _handler.ValidateTokenAsync(_rsaToken, _parameters);

    [Benchmark(Description = "JsonWebTokenHandler HS256 alone")]
    public Task<TokenValidationResult> Library_Hs256() => _handler.ValidateTokenAsync(_hmacToken, _parameters);
}
