using AiEdge.Middleware.Authentication.Internal;

namespace AiEdge.Middleware.Authentication.Tests;

public sealed class ApiKeyHasherTests
{
    [Fact]
    public void ComputeHash_IsLowercaseHexSha256OfUtf8()
    {
        // FIPS 180-2 test vector.
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ApiKeyHasher.ComputeHash("abc"));
    }

    [Fact]
    public void GenerateKey_IsRandomUrlSafeWithPrefix()
    {
        var first = ApiKeyHasher.GenerateKey("sk_live_");
        var second = ApiKeyHasher.GenerateKey("sk_live_");

        Assert.NotEqual(first, second);
        Assert.StartsWith("sk_live_", first, StringComparison.Ordinal);
        Assert.Equal("sk_live_".Length + 43, first.Length);
        Assert.True(CredentialReader.IsToken68(first));
    }

    [Fact]
    public void Store_FindsKeysByHash_AndRefusesNearMisses()
    {
        var options = new EdgeApiKeyOptions();
        options.Add("a", ApiKeyHasher.ComputeHash("sk_alpha_key_1234"), "pro", "predict", "predict");
        options.Add("b", ApiKeyHasher.ComputeHash("sk_beta_key_12345").ToUpperInvariant());
        var store = new ApiKeyStore(options);

        Assert.True(store.TryFind("sk_alpha_key_1234", out var alpha));
        Assert.Equal("a", alpha!.Name);
        Assert.Equal("pro", alpha.Plan);
        Assert.Equal(["predict"], alpha.Scopes);
        Assert.True(store.TryFind("sk_beta_key_12345", out var beta));
        Assert.Null(beta!.Plan);
        Assert.False(store.TryFind("sk_alpha_key_123", out _));
        Assert.False(store.TryFind("SK_ALPHA_KEY_1234", out _));
        Assert.False(store.TryFind(string.Empty, out _));
        Assert.False(store.TryFind(new string('x', 257), out _));
    }
}
