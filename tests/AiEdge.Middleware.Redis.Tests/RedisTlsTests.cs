using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AiEdge.Middleware.Testing;

namespace AiEdge.Middleware.Redis.Tests;

/// <summary>The client over TLS against a redis-server with a self-signed certificate made for the test.</summary>
public sealed class RedisTlsTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = RedisTestConnections.Timeout;
    private readonly string _directory = Directory.CreateTempSubdirectory("aiedge-redis-tls-").FullName;
    private RedisServerFixture _redis = null!;
    private X509Certificate2 _certificate = null!;
    private int _tlsPort;

    public async Task InitializeAsync()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        var certFile = Path.Combine(_directory, "cert.pem");
        var keyFile = Path.Combine(_directory, "key.pem");
        await File.WriteAllTextAsync(certFile, _certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(keyFile, key.ExportPkcs8PrivateKeyPem());

        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            _tlsPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        _redis = await RedisServerFixture.StartAsync(
            "--tls-port", _tlsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--tls-cert-file", certFile, "--tls-key-file", keyFile, "--tls-ca-cert-file", certFile, "--tls-auth-clients", "no");
    }

    public async Task DisposeAsync()
    {
        await _redis.DisposeAsync();
        _certificate.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Connect_SslTrue_SpeaksRespOverTls()
    {
        var thumbprint = _certificate.Thumbprint;
        await using var connection = await RedisTestConnections.ConnectAsync(
            $"localhost:{_tlsPort},ssl=true",
            o => o.RemoteCertificateValidation = (_, certificate, _, _) => certificate is not null && new X509Certificate2(certificate).Thumbprint == thumbprint);

        await connection.ExecuteAsync("SET", "tls", "yes").WaitAsync(Timeout);

        Assert.Equal("yes", (await connection.ExecuteAsync("GET", "tls").WaitAsync(Timeout)).ToString());
    }

    [Fact]
    public async Task Connect_UntrustedCertificate_StaysDisconnected()
    {
        await using var connection = RedisTestConnections.Create($"localhost:{_tlsPort},ssl=true");
        connection.Start();

        await Assert.ThrowsAsync<TimeoutException>(() => connection.WhenConnectedAsync().WaitAsync(TimeSpan.FromSeconds(1)));

        Assert.False(connection.IsConnected);
        Assert.NotNull(await RedisTestConnections.LastErrorAsync(connection));
    }
}
