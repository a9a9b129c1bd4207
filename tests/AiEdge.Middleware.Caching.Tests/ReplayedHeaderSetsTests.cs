using AiEdge.Middleware.Caching.Internal;
using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace AiEdge.Middleware.Caching.Tests;

/// <summary>Stored responses with equal replayed headers share one array, in a bounded table.</summary>
public sealed class ReplayedHeaderSetsTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Record_EqualHeaders_ShareOneArray()
    {
        var sets = new ReplayedHeaderSets(8);

        var first = Record(sets, "application/json; charset=utf-8", "toy");
        var second = Record(sets, "application/json; charset=utf-8", "toy");
        var third = Record(sets, "application/json; charset=utf-8", "toy");

        // The first copy is remembered and becomes the shared set when an equal one follows.
        Assert.Same(first.Headers, second.Headers);
        Assert.Same(second.Headers, third.Headers);
        Assert.Equal(1, sets.Count);
        Assert.Equal("application/json; charset=utf-8", (string?)third.Headers[0].Value);
        Assert.Equal("toy", (string?)third.Headers[1].Value);
    }

    [Fact]
    public void Record_DifferentHeaders_DoNotShare()
    {
        var sets = new ReplayedHeaderSets(8);

        var json = Record(sets, "application/json", "toy");
        Record(sets, "application/json", "toy");
        var other = Record(sets, "application/json", "big");
        var otherAgain = Record(sets, "application/json", "big");
        var caseDiffers = Record(sets, "application/JSON", "toy");

        Assert.NotSame(json.Headers, other.Headers);
        Assert.Same(other.Headers, otherAgain.Headers);
        Assert.NotSame(json.Headers, caseDiffers.Headers);
        Assert.Equal("big", (string?)other.Headers[1].Value);
        Assert.Equal(2, sets.Count);
    }

    [Fact]
    public void Share_SetsSeenOnce_TakeNoPlace()
    {
        var sets = new ReplayedHeaderSets(4);
        for (var i = 0; i < 100; i++)
        {
            var headers = sets.Share([new("ETag", "\"" + i + "\"")], owned: null, out var shared);
            Assert.False(shared);
            Assert.Single(headers);
        }

        Assert.Equal(0, sets.Count);
    }

    [Fact]
    public void Share_TableIsBounded_ThenGivesPrivateCopies()
    {
        var sets = new ReplayedHeaderSets(4);
        var held = new KeyValuePair<string, StringValues>[4][];
        for (var i = 0; i < 10; i++)
        {
            KeyValuePair<string, StringValues>[] set = [new("Content-Type", "type/" + i)];
            sets.Share(set, owned: null, out _);
            var second = sets.Share(set, owned: null, out var shared);
            Assert.Equal(i < 4, shared);
            if (i < 4)
            {
                held[i] = second;
            }
        }

        Assert.Equal(4, sets.Count);
        KeyValuePair<string, StringValues>[] fifth = [new("Content-Type", "type/4")];
        var a = sets.Share(fifth, owned: null, out var aShared);
        var b = sets.Share(fifth, owned: null, out var bShared);
        Assert.False(aShared || bShared);
        Assert.NotSame(a, b);
        Assert.Equal("type/4", (string?)b[0].Value);

        // Sets admitted earlier are still shared.
        Assert.Same(held[2], sets.Share([new("Content-Type", "type/2")], owned: null, out var stillShared));
        Assert.True(stillShared);
        Assert.Equal(4, sets.Count);
    }

    [Fact]
    public void Share_LargeSets_AreNeverShared()
    {
        var sets = new ReplayedHeaderSets(4);
        var many = new KeyValuePair<string, StringValues>[ReplayedHeaderSets.MaxFields + 1];
        for (var i = 0; i < many.Length; i++)
        {
            many[i] = new("X-F" + i, "v");
        }

        KeyValuePair<string, StringValues>[] longSet = [new("X-Long", new string('v', ReplayedHeaderSets.MaxChars))];
        for (var i = 0; i < 3; i++)
        {
            Assert.NotSame(many, sets.Share(many, owned: null, out var manyShared));
            Assert.False(manyShared);
            Assert.Same(longSet, sets.Share(longSet, owned: longSet, out var longShared));
            Assert.False(longShared);
        }

        Assert.Equal(0, sets.Count);
    }

    [Fact]
    public void Size_SharedSetIsNotChargedToTheEntry()
    {
        var sets = new ReplayedHeaderSets(8);
        var privateSet = Record(sets, "application/json", "toy");
        var shared = Record(sets, "application/json", "toy");
        var empty = new CachedResponse(200, [], new byte[2], null, Now, Now, Now);

        Assert.Equal(CachedResponse.EntryOverhead + CachedResponse.ArrayOverhead + 2, shared.Size);
        Assert.Equal(shared.Size, empty.Size);

        // A private set: the array (24 + 16 per field) and each name and value string (22 + 2 per char).
        var headerBytes = 24 + (2 * 16)
            + (22 + ("Content-Type".Length * 2)) + (22 + ("application/json".Length * 2))
            + (22 + ("X-Model".Length * 2)) + (22 + ("toy".Length * 2));
        Assert.Equal(shared.Size + headerBytes, privateSet.Size);
    }

    [Fact]
    public void TryDeserialize_EqualHeaders_ShareThroughTheSharedTable()
    {
        var header = "X-Deserialized-" + Guid.NewGuid().ToString("N");
        var original = new CachedResponse(200, [new(header, "1")], [1, 2, 3], null, Now, Now.AddMinutes(1), Now.AddMinutes(2));
        var data = original.Serialize();

        Assert.True(CachedResponse.TryDeserialize(data, out var first));
        Assert.True(CachedResponse.TryDeserialize(data, out var second));
        Assert.True(CachedResponse.TryDeserialize(data, out var third));

        Assert.Same(first!.Headers, second!.Headers);
        Assert.Same(second.Headers, third!.Headers);
        Assert.Equal(CachedResponse.EntryOverhead + CachedResponse.ArrayOverhead + 3, third.Size);
        Assert.Equal(original.Serialize(), third.Serialize());
        Assert.Equal(original.CreatedAt, third.CreatedAt);
        Assert.Equal(original.ExpiresAt, third.ExpiresAt);
    }

    [Fact]
    public void Record_SetCookieAndConnectionListedFields_AreNotReplayed()
    {
        var response = new DefaultHttpContext().Response;
        response.ContentType = "application/json";
        response.Headers.SetCookie = "a=b";
        response.Headers.Connection = "keep-alive, X-Hop ,close";
        response.Headers["X-Hop"] = "1";
        response.Headers["X-Kept"] = "2";

        var entry = ResponseRecorder.Record(response, [], [], null, Now, TimeSpan.FromMinutes(1), TimeSpan.Zero, null, new ReplayedHeaderSets(4));

        var names = Array.ConvertAll(entry.Headers, static h => h.Key);
        Assert.Equal(["Content-Type", "X-Kept"], names.Order(StringComparer.Ordinal));
    }

    private static CachedResponse Record(ReplayedHeaderSets sets, string contentType, string model)
    {
        var response = new DefaultHttpContext().Response;
        response.ContentType = contentType;
        response.Headers["X-Model"] = model;
        response.Headers.Date = "Thu, 01 Jan 2026 00:00:00 GMT";
        return ResponseRecorder.Record(response, [], "{}"u8, null, Now, TimeSpan.FromMinutes(1), TimeSpan.Zero, null, sets);
    }
}
