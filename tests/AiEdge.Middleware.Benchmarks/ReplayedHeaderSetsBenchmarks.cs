using AiEdge.Middleware.Caching.Internal;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace AiEdge.Middleware.Benchmarks;

/// <summary>
/// What header interning (<see cref="ReplayedHeaderSets"/>) saves per stored entry: recording one answer whose replayed
/// headers equal those of earlier answers, with the shared table (the headers are the table's array) and with a
/// full table that admits nothing (every entry gets its own copy). The bytes allocated per record are the bytes each
/// cached entry keeps.
/// </summary>
[MemoryDiagnoser]
public class ReplayedHeaderSetsBenchmarks
{
    private static readonly byte[] Body = "{\"model\":\"toy\",\"label\":\"positive\",\"score\":0.8808}"u8.ToArray();

    private readonly ReplayedHeaderSets _sharing = new(ReplayedHeaderSets.DefaultCapacity);
    private readonly ReplayedHeaderSets _full = new(1);
    private DefaultHttpContext _context = null!;

    [GlobalSetup]
    public void Setup()
    {
        _context = new DefaultHttpContext();
        _context.Response.StatusCode = 200;
        _context.Response.ContentType = "application/json; charset=utf-8";
        _context.Response.Headers["X-Model-Version"] = "toy-1";

        // The full table holds another set already, so it never admits this one.
        KeyValuePair<string, StringValues>[] other = [new("Content-Type", "text/plain")];
        _full.Share(other, null, out _);
        _full.Share(other, null, out _);

        // Seen twice: the sharing table now holds this answer's set.
        Record(_sharing);
        Record(_sharing);
    }

    /// <summary>Recording with interning: the entry refers to the shared header array.</summary>
    [Benchmark(Baseline = true)]
    public object Record_SharedHeaders() => Record(_sharing);

    /// <summary>Recording without interning: the entry holds its own header array.</summary>
    [Benchmark]
    public object Record_PrivateHeaders() => Record(_full);

    private CachedResponse Record(ReplayedHeaderSets sets)
        => ResponseRecorder.Record(_context.Response, [], Body, null, DateTimeOffset.UnixEpoch, TimeSpan.FromMinutes(5), TimeSpan.Zero, null, sets);
}
