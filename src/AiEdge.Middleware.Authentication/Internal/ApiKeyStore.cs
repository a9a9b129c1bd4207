using System.Buffers;
using System.Runtime.InteropServices;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;

namespace AiEdge.Middleware.Authentication.Internal;

/// <summary>
/// The configured API keys, indexed by the SHA-256 of the key. A presented key is hashed once (no allocation),
/// looked up, and the stored hash is compared with <see cref="CryptographicOperations.FixedTimeEquals"/>.
/// </summary>
internal sealed class ApiKeyStore
{
    private const int StackLimit = 1024;
    private readonly Dictionary<HashKey, ApiKeyRecord> _byHash;
    private readonly int _maxKeyLength;

    public ApiKeyStore(EdgeApiKeyOptions options)
    {
        _maxKeyLength = options.MaxKeyLength;
        _byHash = new Dictionary<HashKey, ApiKeyRecord>(options.Keys.Count);
        foreach (var (name, definition) in options.Keys)
        {
            var hash = Convert.FromHexString(definition.Hash!);
            var scopes = new List<string>(definition.Scopes.Count);
            foreach (var scope in definition.Scopes)
            {
                if (!string.IsNullOrWhiteSpace(scope) && !scopes.Contains(scope))
                {
                    scopes.Add(scope);
                }
            }

            _byHash[HashKey.From(hash)] = new ApiKeyRecord(name, string.IsNullOrEmpty(definition.Plan) ? null : definition.Plan, [.. scopes], hash);
        }
    }

    public int Count => _byHash.Count;

    public bool TryFind(ReadOnlySpan<char> key, out ApiKeyRecord? record)
    {
        record = null;
        if (key.IsEmpty || key.Length > _maxKeyLength)
        {
            return false;
        }

        var maxBytes = Encoding.UTF8.GetMaxByteCount(key.Length);
        byte[]? rented = null;
        var buffer = maxBytes <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(maxBytes));
        try
        {
            var length = Encoding.UTF8.GetBytes(key, buffer);
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(buffer[..length], hash);
            CryptographicOperations.ZeroMemory(buffer[..length]);
            if (_byHash.TryGetValue(HashKey.From(hash), out var found) && CryptographicOperations.FixedTimeEquals(hash, found.Hash))
            {
                record = found;
                return true;
            }

            return false;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The 32 bytes of a SHA-256 as a dictionary key.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct HashKey(ulong A, ulong B, ulong C, ulong D)
    {
        public static HashKey From(ReadOnlySpan<byte> hash) => MemoryMarshal.Read<HashKey>(hash);
    }
}

/// <summary>An accepted API key: its name, plan, scopes and hash.</summary>
internal sealed class ApiKeyRecord(string name, string? plan, string[] scopes, byte[] hash)
{
    public string Name { get; } = name;

    public string? Plan { get; } = plan;

    public string[] Scopes { get; } = scopes;

    public byte[] Hash { get; } = hash;

    /// <summary>
    /// Every claim is issued by <see cref="AiEdgeAuthenticationTypes.ApiKey"/>: together with the identity's
    /// authentication type, that is what makes the key name count as an API key caller, which no JWT can imitate.
    /// </summary>
    public ClaimsPrincipal CreatePrincipal()
    {
        const string Issuer = AiEdgeAuthenticationTypes.ApiKey;
        var identity = new ClaimsIdentity(AiEdgeAuthenticationTypes.ApiKey, ClaimTypes.NameIdentifier, ClaimTypes.Role);
        identity.AddClaim(new Claim(ClaimTypes.NameIdentifier, Name, ClaimValueTypes.String, Issuer));
        identity.AddClaim(new Claim(AiEdgeClaimTypes.ApiKeyName, Name, ClaimValueTypes.String, Issuer));
        if (Plan is not null)
        {
            identity.AddClaim(new Claim(AiEdgeClaimTypes.Plan, Plan, ClaimValueTypes.String, Issuer));
        }

        foreach (var scope in Scopes)
        {
            identity.AddClaim(new Claim(AiEdgeClaimTypes.Scope, scope, ClaimValueTypes.String, Issuer));
        }

        return new ClaimsPrincipal(identity);
    }
}
