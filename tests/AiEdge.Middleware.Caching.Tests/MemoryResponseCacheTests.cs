using System.Security.Cryptography;
using AiEdge.Middleware.Caching.Internal;
using AiEdge.Middleware.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Caching.Tests;

/// <summary>The in-memory level on its own: LRU order, eviction by bytes, entries as their own list nodes, concurrency.</summary>
public sealed class MemoryResponseCacheTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    // An entry with the empty (shared) header set and a body of n bytes holds EntryOverhead + 24 + n.
    private static readonly long Unit = Entry(100).Size;

    [Fact]
    public void Size_OfEntryWithSharedHeaders_IsOverheadAndBody()
    {
        Assert.Equal(CachedResponse.EntryOverhead + CachedResponse.ArrayOverhead + 100, Unit);
    }

    [Fact]
    public void Set_EvictsLeastRecentlyUsed_ExactlyByBytes()
    {
        var cache = NewCache(3 * Unit, out _);
        var (a, b, c, d) = (Key(1), Key(2), Key(3), Key(4));
        cache.Set(a, Entry(100));
        cache.Set(b, Entry(100));
        cache.Set(c, Entry(100));
        Assert.Equal(3 * Unit, cache.Size);

        Assert.NotNull(cache.Get(a));   // a is now the most recently used: b is the oldest
        cache.Set(d, Entry(100));

        Assert.Null(cache.Get(b));
        Assert.Equal(3, cache.Count);
        Assert.Equal(3 * Unit, cache.Size);

        // Order now d, a, c (c oldest). An entry of two units pushes out c, then a.
        var big = Entry((int)((2 * Unit) - CachedResponse.EntryOverhead - CachedResponse.ArrayOverhead));
        Assert.Equal(2 * Unit, big.Size);
        cache.Set(Key(5), big);

        Assert.Null(cache.Get(c));
        Assert.Null(cache.Get(a));
        Assert.Same(big, cache.Get(Key(5)));
        Assert.NotNull(cache.Get(d));
        Assert.Equal(2, cache.Count);
        Assert.Equal(3 * Unit, cache.Size);
    }

    [Fact]
    public void Set_EntryLargerThanLimit_IsRefusedAndNothingEvicted()
    {
        var cache = NewCache(2 * Unit, out _);
        cache.Set(Key(1), Entry(100));

        Assert.False(cache.Set(Key(2), Entry(100 + (int)(2 * Unit))));
        Assert.Equal(Unit, cache.Size);
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void Set_SameKey_ReplacesAndRecountsBytes()
    {
        var cache = NewCache(10 * Unit, out _);
        var first = Entry(100);
        var second = Entry(300);
        cache.Set(Key(1), first);
        cache.Set(Key(1), second);

        Assert.Same(second, cache.Get(Key(1)));
        Assert.Equal(1, cache.Count);
        Assert.Equal(second.Size, cache.Size);

        cache.Set(Key(1), second);   // the very same instance again: kept, not counted twice
        Assert.Equal(1, cache.Count);
        Assert.Equal(second.Size, cache.Size);
    }

    [Fact]
    public void Set_InstanceAlreadyStored_IsStoredAsACopySharingItsArrays()
    {
        var cache = NewCache(10 * Unit, out _);
        var other = NewCache(10 * Unit, out _);
        var entry = Entry(100);
        cache.Set(Key(1), entry);
        cache.Set(Key(2), entry);
        other.Set(Key(1), entry);

        var copy = cache.Get(Key(2));
        var elsewhere = other.Get(Key(1));
        Assert.Same(entry, cache.Get(Key(1)));
        Assert.NotSame(entry, copy);
        Assert.NotSame(entry, elsewhere);
        Assert.Same(entry.Body, copy!.Body);
        Assert.Same(entry.Headers, elsewhere!.Headers);
        Assert.Equal(2 * Unit, cache.Size);
        Assert.Equal(200, entry.StatusCode);   // being stored leaves the status as it was
        Assert.Equal(200, copy.StatusCode);
        Assert.True(CachedResponse.TryDeserialize(entry.Serialize(), out var read));
        Assert.Equal(200, read!.StatusCode);

        // The lists stay independent: emptying one cache leaves the other whole.
        for (var i = 10; i < 30; i++)
        {
            cache.Set(Key(i), Entry(100));
        }

        Assert.Null(cache.Get(Key(1)));
        Assert.Same(elsewhere, other.Get(Key(1)));
        Assert.Equal(10 * Unit, cache.Size);
        Assert.Equal(Unit, other.Size);
    }

    [Fact]
    public void Get_AfterStaleWindow_RemovesTheEntry()
    {
        var cache = NewCache(10 * Unit, out var time);
        cache.Set(Key(1), Entry(100));
        cache.Set(Key(2), Entry(100, stale: TimeSpan.FromHours(1)));

        time.Advance(TimeSpan.FromMinutes(3));

        Assert.Null(cache.Get(Key(1)));
        Assert.NotNull(cache.Get(Key(2)));
        Assert.Equal(1, cache.Count);
        Assert.Equal(Unit, cache.Size);
    }

    [Fact]
    public async Task GetAndSet_UnderRealConcurrency_SizeIsTheSumOfHeldEntries()
    {
        const int Keys = 64;
        const int Workers = 8;
        var cache = NewCache(20 * Unit, out _);
        var keys = new CacheKey[Keys];
        for (var i = 0; i < Keys; i++)
        {
            keys[i] = Key(i);
        }

        using var barrier = new Barrier(Workers);
        var workers = new Task[Workers];
        for (var w = 0; w < Workers; w++)
        {
            var seed = w;
            workers[w] = Task.Factory.StartNew(
                () =>
                {
                    var random = new Random(seed);
                    var shared = Entry(150);   // one instance stored by several threads under several keys
                    barrier.SignalAndWait();
                    for (var n = 0; n < 20_000; n++)
                    {
                        var key = keys[random.Next(Keys)];
                        switch (random.Next(4))
                        {
                            case 0:
                                cache.Set(key, Entry(random.Next(0, 400)));
                                break;
                            case 1:
                                cache.Set(key, shared);
                                break;
                            default:
                                cache.Get(key);
                                break;
                        }
                    }
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
        }

        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60));

        long held = 0;
        var found = 0;
        foreach (var key in keys)
        {
            if (cache.Get(key) is { } entry)
            {
                held += entry.Size;
                found++;
            }
        }

        Assert.Equal(cache.Count, found);
        Assert.Equal(held, cache.Size);
        Assert.InRange(cache.Size, 1, 20 * Unit);

        // The list is intact: new entries push out every old one and the accounting ends exact.
        for (var i = 0; i < 20; i++)
        {
            cache.Set(Key(1000 + i), Entry(100));
        }

        Assert.Equal(20, cache.Count);
        Assert.Equal(20 * Unit, cache.Size);
        foreach (var key in keys)
        {
            Assert.Null(cache.Get(key));
        }
    }

    [Fact]
    public void RecordAndSet_WithAnAlreadySharedHeaderSet_AllocateOnlyTheEntryAndTheBody()
    {
        var cache = NewCache(8 * Unit * 4, out var time);
        var headerSets = new ReplayedHeaderSets(4);
        var body = new byte[100];
        var response = new DefaultHttpContext().Response;
        response.StatusCode = 200;
        response.ContentType = "application/json; charset=utf-8";
        response.Headers["X-Model"] = "toy";

        // Warm up: the set is admitted (seen twice), the cache fills and from then on evicts one entry per store,
        // so the dictionary no longer grows; every path has run once.
        var n = 0;
        for (; n < 64; n++)
        {
            body[0] = (byte)n;
            cache.Set(Key(n), ResponseRecorder.Record(response, [], body, null, time.GetUtcNow(), TimeSpan.FromMinutes(1), TimeSpan.Zero, null, headerSets));
        }

        Assert.Equal(1, headerSets.Count);
        var count = cache.Count;

        var before = GC.GetAllocatedBytesForCurrentThread();
        var entry = ResponseRecorder.Record(response, [], body, null, time.GetUtcNow(), TimeSpan.FromMinutes(1), TimeSpan.Zero, null, headerSets);
        cache.Set(Key(n), entry);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // The entry (object header and method table 16, five references 40, three longs 24, the 32-byte key, two
        // ints 8: 120) and the body copy (array header 24 + 100 bytes, rounded to 8: 128).
        Assert.Equal(count, cache.Count);
        Assert.Same(cache.Get(Key(n - 1))!.Headers, entry.Headers);
        Assert.InRange(allocated, 0, 120 + 128);
    }

    [Fact]
    public void Record_StoredBodyStartsInTheOldestGeneration()
    {
        var response = new DefaultHttpContext().Response;
        response.StatusCode = 200;
        response.ContentType = "application/json";
        var body = "{\"label\":\"positive\"}"u8.ToArray();

        var entry = ResponseRecorder.Record(response, [], body, null, Start, TimeSpan.FromMinutes(1), TimeSpan.Zero);

        // Not copied through the young generations by every collection while it waits in the cache.
        Assert.Equal(GC.MaxGeneration, GC.GetGeneration(entry.Body));
        Assert.Equal(body, entry.Body);
    }

    internal static CachedResponse Entry(int bodyLength, TimeSpan? stale = null)
        => new(200, [], new byte[bodyLength], null, Start, Start.AddMinutes(1), Start.AddMinutes(1) + (stale ?? TimeSpan.FromMinutes(1)));

    internal static CacheKey Key(int value)
    {
        Span<byte> hash = stackalloc byte[32];
        BitConverter.TryWriteBytes(hash, value);
        SHA256.HashData(hash, hash);
        return new CacheKey(hash);
    }

    private static MemoryResponseCache NewCache(long limit, out FakeTimeProvider time)
    {
        time = new FakeTimeProvider(Start);
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddAiEdgeCore(edge => edge.AddPredictionCache(options => options.SizeLimit = limit));
        return services.BuildServiceProvider().GetRequiredService<MemoryResponseCache>();
    }
}
