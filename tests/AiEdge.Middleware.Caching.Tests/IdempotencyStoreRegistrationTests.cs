using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Caching.Tests;

/// <summary>Which <see cref="IIdempotencyStore"/> the middleware uses: the default, or one the app registers.</summary>
public sealed class IdempotencyStoreRegistrationTests
{
    private static int _jobs;

    private static Task<Testing.TestApp> StartAsync(Action<IServiceCollection>? services = null)
        => CachingHost.StartAsync(
            app => app.MapPost("/train", static () => Results.Ok(new { job = Interlocked.Increment(ref _jobs) })).WithIdempotency(),
            services: services,
            configuration: new Dictionary<string, string?> { ["AiEdge:Idempotency:SizeLimit"] = "123456" });

    private static Task<HttpResponseMessage> SendAsync(Testing.TestApp app)
        => app.Client.SendAsync(CachingHost.Post("/train", """{"dataset":"d"}""", ("Idempotency-Key", "\"registration-key\"")));

    [Fact]
    public async Task AddIdempotency_NoStoreRegistered_UsesTheInMemoryStoreBoundBySizeLimit()
    {
        await using var app = await StartAsync();

        var store = app.Services.GetRequiredService<IIdempotencyStore>();

        Assert.Same(app.Services.GetRequiredService<InMemoryIdempotencyStore>(), store);
        Assert.Equal(123456, ((InMemoryIdempotencyStore)store).SizeLimit);
    }

    [Fact]
    public async Task AddIdempotency_StoreRegisteredBefore_IsTheOneTheMiddlewareUses()
    {
        var custom = new CountingStore(new InMemoryIdempotencyStore(TimeProvider.System));
        await using var app = await StartAsync(services => services.AddSingleton<IIdempotencyStore>(custom));

        using var first = await SendAsync(app);
        using var retry = await SendAsync(app);

        Assert.Same(custom, app.Services.GetRequiredService<IIdempotencyStore>());
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await retry.Content.ReadAsStringAsync());
        Assert.Equal("true", string.Join(",", retry.Headers.GetValues("Idempotent-Replayed")));
        Assert.Equal(2, custom.Claims);
        Assert.Equal(1, custom.Completions);
    }

    // A store of the app's own, built on public API only: counts calls and delegates.
    private sealed class CountingStore(IIdempotencyStore inner) : IIdempotencyStore
    {
        private int _claims;
        private int _completions;

        public int Claims => Volatile.Read(ref _claims);

        public int Completions => Volatile.Read(ref _completions);

        public ValueTask<IdempotencyClaim> TryClaimAsync(string key, byte[] fingerprint, string token, TimeSpan lease, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _claims);
            return inner.TryClaimAsync(key, fingerprint, token, lease, cancellationToken);
        }

        public ValueTask<bool> CompleteAsync(string key, string token, IdempotencyRecord record, TimeSpan retention, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _completions);
            return inner.CompleteAsync(key, token, record, retention, cancellationToken);
        }

        public ValueTask ReleaseAsync(string key, string token, CancellationToken cancellationToken)
            => inner.ReleaseAsync(key, token, cancellationToken);

        public ValueTask<IdempotencyRecord?> GetAsync(string key, CancellationToken cancellationToken)
            => inner.GetAsync(key, cancellationToken);
    }
}
