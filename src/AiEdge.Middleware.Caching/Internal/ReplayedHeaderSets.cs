using AiEdge.Middleware.Internal;
using Microsoft.Extensions.Primitives;

namespace AiEdge.Middleware.Caching.Internal;

/// <summary>
/// A small, bounded table of immutable replayed-header sets shared by stored responses. Nearly every entry of an
/// endpoint replays the same headers (often only <c>Content-Type</c>), so entries with equal sets hold one array
/// instead of a copy each.
/// </summary>
/// <remarks>
/// <para>Equal means the same fields in the same order, names and values compared ordinally (a replay is then
/// byte-identical whichever entry it comes from).</para>
/// <para>Bounded: at most <see cref="Capacity"/> sets, each of at most <see cref="MaxFields"/> fields and
/// <see cref="MaxChars"/> characters (names and values); sets are never removed, and once the table is full every
/// new set is a private copy. The table therefore holds at most a few hundred KiB, which is why a shared set is not
/// charged to the entries that hold it (see <see cref="CachedResponse.Size"/>).</para>
/// <para>A set is admitted the second time it is seen: the first entry keeps a private copy that is remembered as
/// a candidate (a ring of <see cref="Capacity"/> recent sets) and becomes the shared set when an equal one follows.
/// Sets that occur once (a per-response <c>ETag</c> or request id) thus never take a place in the table.</para>
/// <para>Lookups of admitted sets take no lock and allocate nothing; admission takes a lock.</para>
/// <para>Measured (tests/AiEdge.Middleware.Benchmarks/ReplayedHeaderSetsBenchmarks.cs, short job, MemoryDiagnoser,
/// .NET 10): recording an answer with two replayed headers allocates 200 B with the shared set and 256 B with a private
/// copy, so each cached entry keeps 56 B (22 %) and one object less; with a 64 MiB cache of 1 KiB answers, about
/// 3.5 MiB and 60,000 objects fewer for the garbage collector to promote and scan. Kept for that.</para>
/// </remarks>
internal sealed class ReplayedHeaderSets
{
    /// <summary>The number of sets <see cref="Shared"/> holds at most.</summary>
    public const int DefaultCapacity = 64;

    /// <summary>The most fields a shared set may have.</summary>
    public const int MaxFields = 16;

    /// <summary>The most characters (names and values) a shared set may have.</summary>
    public const int MaxChars = 2048;

    private readonly Lock _lock = new();
    private readonly KeyValuePair<string, StringValues>[][] _sets;
    private readonly int[] _hashes;
    private readonly KeyValuePair<string, StringValues>[]?[] _candidates;
    private readonly int[] _candidateHashes;
    private KeyValuePair<string, StringValues>[]? _recent;
    private int _nextCandidate;
    private int _count;

    public ReplayedHeaderSets(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _sets = new KeyValuePair<string, StringValues>[capacity][];
        _hashes = new int[capacity];
        _candidates = new KeyValuePair<string, StringValues>[capacity][];
        _candidateHashes = new int[capacity];
    }

    /// <summary>Gets the table every stored response uses.</summary>
    public static ReplayedHeaderSets Shared { get; } = new(DefaultCapacity);

    /// <summary>Gets the number of sets the table may hold.</summary>
    public int Capacity => _sets.Length;

    /// <summary>Gets the number of sets held.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>
    /// Gives the shared set equal to <paramref name="headers"/> when there is one (allocating nothing), otherwise
    /// <paramref name="owned"/> or a copy of <paramref name="headers"/>, which may become the shared set.
    /// </summary>
    /// <param name="headers">The replayed headers.</param>
    /// <param name="owned">An array holding exactly <paramref name="headers"/> that the caller gives away, or <see langword="null"/>.</param>
    /// <param name="shared"><see langword="true"/> when the result is held by the table (or is the empty set).</param>
    /// <returns>An array equal to <paramref name="headers"/> that nobody may modify.</returns>
    public KeyValuePair<string, StringValues>[] Share(
        ReadOnlySpan<KeyValuePair<string, StringValues>> headers,
        KeyValuePair<string, StringValues>[]? owned,
        out bool shared)
    {
        if (headers.IsEmpty)
        {
            shared = true;
            return [];
        }

        // Most responses of an endpoint replay the same set as the previous one: compared field by field (equal
        // strings are usually the same instances), it is found without hashing the names and values.
        var recent = Volatile.Read(ref _recent);
        if (recent is not null && AreEqual(recent, headers))
        {
            shared = true;
            return recent;
        }

        if (!TryHash(headers, out var hash))
        {
            shared = false;
            return owned ?? headers.ToArray();
        }

        var found = Find(headers, hash);
        if (found is not null)
        {
            Volatile.Write(ref _recent, found);
            shared = true;
            return found;
        }

        if (Volatile.Read(ref _count) == _sets.Length)
        {
            shared = false;
            return owned ?? headers.ToArray();
        }

        return Admit(headers, hash, owned, out shared);
    }

    /// <summary>Whether <paramref name="headers"/> is a set the table holds (by reference).</summary>
    public bool Holds(KeyValuePair<string, StringValues>[] headers)
    {
        if (headers.Length == 0)
        {
            return true;
        }

        var count = Volatile.Read(ref _count);
        for (var i = 0; i < count; i++)
        {
            if (ReferenceEquals(_sets[i], headers))
            {
                return true;
            }
        }

        return false;
    }

    private KeyValuePair<string, StringValues>[]? Find(ReadOnlySpan<KeyValuePair<string, StringValues>> headers, int hash)
    {
        // Slots below the published count are written before the count and never change afterwards.
        var count = Volatile.Read(ref _count);
        for (var i = 0; i < count; i++)
        {
            if (_hashes[i] == hash && AreEqual(_sets[i], headers))
            {
                return _sets[i];
            }
        }

        return null;
    }

    private KeyValuePair<string, StringValues>[] Admit(
        ReadOnlySpan<KeyValuePair<string, StringValues>> headers,
        int hash,
        KeyValuePair<string, StringValues>[]? owned,
        out bool shared)
    {
        lock (_lock)
        {
            // Another thread may have admitted it meanwhile.
            var found = Find(headers, hash);
            if (found is not null)
            {
                shared = true;
                return found;
            }

            if (_count < _sets.Length)
            {
                for (var i = 0; i < _candidates.Length; i++)
                {
                    if (_candidates[i] is { } candidate && _candidateHashes[i] == hash && AreEqual(candidate, headers))
                    {
                        _candidates[i] = null;
                        _hashes[_count] = hash;
                        _sets[_count] = candidate;
                        Volatile.Write(ref _count, _count + 1);
                        Volatile.Write(ref _recent, candidate);
                        shared = true;
                        return candidate;
                    }
                }
            }

            var copy = owned ?? headers.ToArray();
            if (_count < _sets.Length)
            {
                _candidateHashes[_nextCandidate] = hash;
                _candidates[_nextCandidate] = copy;
                _nextCandidate = (_nextCandidate + 1) % _candidates.Length;
            }

            shared = false;
            return copy;
        }
    }

    private static bool TryHash(ReadOnlySpan<KeyValuePair<string, StringValues>> headers, out int hash)
    {
        hash = 0;
        if (headers.Length > MaxFields)
        {
            return false;
        }

        var chars = 0;
        var hasher = default(HashCode);
        hasher.Add(headers.Length);
        foreach (var header in headers)
        {
            chars += header.Key.Length;
            hasher.Add(header.Key);
            var values = header.Value;
            hasher.Add(values.Count);
            for (var i = 0; i < values.Count; i++)
            {
                var value = values[i];
                chars += value?.Length ?? 0;
                hasher.Add(value);
            }
        }

        hash = hasher.ToHashCode();
        return chars <= MaxChars;
    }

    private static bool AreEqual(ReadOnlySpan<KeyValuePair<string, StringValues>> set, ReadOnlySpan<KeyValuePair<string, StringValues>> headers)
    {
        if (set.Length != headers.Length)
        {
            return false;
        }

        for (var i = 0; i < set.Length; i++)
        {
            if (!string.Equals(set[i].Key, headers[i].Key, StringComparison.Ordinal) || !StringValues.Equals(set[i].Value, headers[i].Value))
            {
                return false;
            }
        }

        return true;
    }
}
