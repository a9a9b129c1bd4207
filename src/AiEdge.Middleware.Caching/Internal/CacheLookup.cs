using System.Security.Cryptography;
using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace AiEdge.Middleware.Caching.Internal;

/// <summary>
/// Finding a request's entry: its key (a hash of everything that makes two requests the same request), then the first
/// level (in process) and, when the store holds entries, the second (<see cref="IPredictionCacheStore"/>). An entry
/// read from the second level is kept in the first.
/// </summary>
internal sealed class CacheLookup(MemoryResponseCache memory, SharedCacheLevel level, TimeProvider time, ILogger logger)
{
    // v2: the content type joined the key, JSON members got a tag of their own and names are compared unescaped.
    private static readonly byte[] KeyVersion = "aiedge-cache-v2"u8.ToArray();

    [ThreadStatic]
    private static PooledByteWriter? t_keyWriter;

    /// <summary>Gets whether the store holds entries (the second level is on).</summary>
    public bool Shared { get; } = level.HoldsEntries;

    /// <summary>Finds the first level's entry of <paramref name="key"/>, fresh or within its stale window.</summary>
    public CachedResponse? GetLocal(in CacheKey key) => memory.Get(key);

    /// <summary>Keeps <paramref name="entry"/> in the first level.</summary>
    public void SetLocal(in CacheKey key, CachedResponse entry) => memory.Set(key, entry);

    /// <summary>Reads the second level's entry of <paramref name="key"/>; a failing store is a miss.</summary>
    public async ValueTask<CachedResponse?> GetSharedAsync(CacheKey key, CancellationToken cancellationToken)
    {
        if (!Shared)
        {
            return null;
        }

        byte[]? data;
        try
        {
            data = await level.Store.GetAsync(key.ToStoreKey(), cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            PredictionCacheLog.DistributedFailed(logger, exception);
            return null;
        }

        return FromShared(key, data);
    }

    /// <summary>The entry <paramref name="data"/> holds, kept in the first level too, unless it is unreadable or past serving even stale.</summary>
    public CachedResponse? FromShared(in CacheKey key, byte[]? data)
    {
        if (data is null || !CachedResponse.TryDeserialize(data, out var cached) || cached!.StaleUntil <= time.GetUtcNow())
        {
            return null;
        }

        memory.Set(key, cached);
        return cached;
    }

    /// <summary>
    /// The entry's key: SHA-256 over the request's method, route, path, varied query and headers, the content type,
    /// the tenant (the source-qualified caller id, else the client address or the shared anonymous mark, each behind
    /// its own tag byte), the policy and the canonical body, every variable part length-prefixed. Returns
    /// <see cref="JsonCanonicalResult.Written"/> with the key, or says why there is none: a body that is not JSON under
    /// <see cref="InvalidJsonHandling.Bypass"/>, or one that repeats a member name (compared ignoring case when
    /// <paramref name="ignoreCase"/>, as the app's JSON binding compares names).
    /// </summary>
    internal static JsonCanonicalResult ComputeKey(HttpContext context, ResolvedCachePolicy policy, string? callerId, ReadOnlyMemory<byte> body, bool ignoreCase, out CacheKey key)
    {
        // Computing the key never awaits, so one writer object per thread serves every request.
        var writer = t_keyWriter ??= new PooledByteWriter(0);
        writer.Reopen(body.Length + 512);
        try
        {
            return ComputeKey(context, policy, callerId, body, writer, ignoreCase, out key);
        }
        finally
        {
            writer.Dispose();
        }
    }

    private static JsonCanonicalResult ComputeKey(HttpContext context, ResolvedCachePolicy policy, string? callerId, ReadOnlyMemory<byte> body, PooledByteWriter writer, bool ignoreCase, out CacheKey key)
    {
        var request = context.Request;
        writer.WriteBlock(KeyVersion);
        writer.WriteString(request.Method);
        writer.WriteString((RequestFeatures.Endpoint(context) as RouteEndpoint)?.RoutePattern.RawText);
        writer.WriteString(request.PathBase.Value);
        writer.WriteString(request.Path.Value);
        if (policy.VaryByQuery.Length == 0)
        {
            writer.WriteString(request.QueryString.Value);
        }
        else
        {
            var query = request.Query;
            foreach (var name in policy.VaryByQuery)
            {
                writer.WriteString(name);
                WriteValues(writer, query[name]);
            }
        }

        foreach (var name in policy.VaryByHeaders)
        {
            writer.WriteString(name);
            WriteValues(writer, request.Headers[name]);
        }

        if (callerId is not null)
        {
            writer.Write((byte)'u');
            writer.WriteString(callerId);
        }
        else if (policy.Anonymous == AnonymousCaching.PerClientAddress)
        {
            writer.Write((byte)'i');
            var span = writer.GetSpan(16);
            var written = 0;
            var address = context.GetClientIpAddress();
            if (address is not null && !address.TryWriteBytes(span, out written))
            {
                written = 0;
            }

            writer.Advance(written);
            writer.WriteInt32(written);
        }
        else
        {
            writer.Write((byte)'a');
        }

        writer.WriteString(policy.Name);

        // The content type as sent: an endpoint may read it (a binder answers 415 to what is not JSON, and decodes a
        // body in the charset it names), so bodies of equal bytes under different content types are different requests.
        var contentType = request.ContentType;
        writer.Write(contentType is null ? (byte)'-' : (byte)'c');
        writer.WriteString(contentType);
        if (body.Length > 0 && IsUtf8Json(contentType))
        {
            writer.Write((byte)'j');
            var canonical = JsonCanonicalizer.TryWrite(body, writer, policy.ExcludedJsonFields, ignoreCase);
            if (canonical == JsonCanonicalResult.DuplicateMember
                || (canonical == JsonCanonicalResult.NotJson && policy.InvalidJson == InvalidJsonHandling.Bypass))
            {
                key = default;
                return canonical;
            }

            if (canonical == JsonCanonicalResult.NotJson)
            {
                writer.Write((byte)'r');
                writer.WriteBlock(body.Span);
            }
        }
        else
        {
            writer.Write((byte)'r');
            writer.WriteBlock(body.Span);
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        Sha256PerThread.Hash(writer.WrittenSpan, hash);
        key = new CacheKey(hash);
        return JsonCanonicalResult.Written;
    }

    private static void WriteValues(PooledByteWriter writer, StringValues values)
    {
        writer.WriteInt32(values.Count);
        foreach (var value in values)
        {
            writer.WriteString(value);
        }
    }

    /// <summary>
    /// Whether a body of <paramref name="contentType"/> is canonicalized: none, or a JSON media type in UTF-8 (no charset,
    /// or exactly one <c>charset=utf-8</c>). A body in another charset is decoded by the binder in that charset, where
    /// equal canonical UTF-8 forms no longer mean equal text; it is keyed on its raw bytes.
    /// </summary>
    internal static bool IsUtf8Json(string? contentType)
    {
        if (contentType is null)
        {
            return true;
        }

        if (!contentType.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var at = contentType.IndexOf("charset", StringComparison.OrdinalIgnoreCase);
        if (at < 0)
        {
            return true;
        }

        var rest = contentType.AsSpan(at + "charset".Length);
        if (rest.Contains("charset", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        rest = rest.TrimStart();
        if (rest.IsEmpty || rest[0] != '=')
        {
            return false;
        }

        rest = rest[1..];
        var end = rest.IndexOf(';');
        if (end >= 0)
        {
            rest = rest[..end];
        }

        rest = rest.Trim();
        if (rest.Length >= 2 && rest[0] == '"' && rest[^1] == '"')
        {
            rest = rest[1..^1];
        }

        return rest.Equals("utf-8", StringComparison.OrdinalIgnoreCase);
    }
}
