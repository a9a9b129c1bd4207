namespace AiEdge.Middleware;

/// <summary>
/// The edge decisions taken for one request, as name/value pairs: what a reader such as the access log reports
/// per request. It is present in <see cref="Microsoft.AspNetCore.Http.HttpContext.Features"/> only while a reader asked
/// for it (the access log adds it at the start of the pipeline and removes it at the end), so a concern records
/// with <c>context.Features.Get&lt;AiEdgeDecisionsFeature&gt;()?.Set(name, value)</c> and pays nothing otherwise.
/// </summary>
/// <remarks>
/// <para>
/// Names are the tag names of <see cref="AiEdgeDiagnostics.Tags"/> (<c>aiedge.ratelimit.tier</c>,
/// <c>aiedge.cache.status</c>, ...), or a concern's own name in the same style; values are bounded (tier names,
/// statuses, configured names), never client-supplied strings. A concern that is not known to Core records its
/// decisions the same way, with no change to Core. Numeric values that add up over a request (the time spent in
/// model-backend calls, <see cref="BackendSeconds"/>) are kept apart from text values with <see cref="Add"/>.
/// </para>
/// <para>
/// The access log pools one instance per concurrent request and calls <see cref="Reset"/> between requests:
/// recording does not allocate while a request records at most eight names of each kind. An instance is used by one
/// request at a time and is not thread-safe.
/// </para>
/// </remarks>
public sealed class AiEdgeDecisionsFeature
{
    /// <summary>The name of the total time, in seconds, spent in model-backend calls (the access log's <c>BackendMs</c>).</summary>
    public const string BackendSeconds = "aiedge.backend.duration";

    private const int InitialCapacity = 8;
    private Entry<string?>[] _texts = new Entry<string?>[InitialCapacity];
    private Entry<double>[] _numbers = new Entry<double>[InitialCapacity];
    private int _textCount;
    private int _numberCount;

    /// <summary>Records <paramref name="value"/> under <paramref name="name"/>, replacing an earlier value of that name.</summary>
    /// <param name="name">The decision's name, e.g. <see cref="AiEdgeDiagnostics.Tags.CacheStatus"/>.</param>
    /// <param name="value">The decision, e.g. <c>hit</c>; <see langword="null"/> records that there is none.</param>
    public void Set(string name, string? value)
    {
        ArgumentNullException.ThrowIfNull(name);
        var index = IndexOf(_texts, _textCount, name);
        if (index < 0)
        {
            index = Append(ref _texts, ref _textCount, name);
        }

        _texts[index].Value = value;
    }

    /// <summary>Gets the value last recorded under <paramref name="name"/> with <see cref="Set"/>.</summary>
    /// <param name="name">The decision's name.</param>
    /// <returns>The value, or <see langword="null"/> when none was recorded.</returns>
    public string? Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var index = IndexOf(_texts, _textCount, name);
        return index < 0 ? null : _texts[index].Value;
    }

    /// <summary>Adds <paramref name="amount"/> to the number recorded under <paramref name="name"/> (which starts at 0).</summary>
    /// <param name="name">The number's name, e.g. <see cref="BackendSeconds"/>.</param>
    /// <param name="amount">The amount to add.</param>
    public void Add(string name, double amount)
    {
        ArgumentNullException.ThrowIfNull(name);
        var index = IndexOf(_numbers, _numberCount, name);
        if (index < 0)
        {
            index = Append(ref _numbers, ref _numberCount, name);
        }

        _numbers[index].Value += amount;
    }

    /// <summary>Gets the total added under <paramref name="name"/> with <see cref="Add"/>.</summary>
    /// <param name="name">The number's name.</param>
    /// <param name="total">The total, or 0 when nothing was added.</param>
    /// <returns><see langword="true"/> when something was added under <paramref name="name"/>.</returns>
    public bool TryGetTotal(string name, out double total)
    {
        ArgumentNullException.ThrowIfNull(name);
        var index = IndexOf(_numbers, _numberCount, name);
        total = index < 0 ? 0 : _numbers[index].Value;
        return index >= 0;
    }

    /// <summary>Forgets every recorded value, keeping the storage for the next request.</summary>
    public void Reset()
    {
        Array.Clear(_texts, 0, _textCount);
        Array.Clear(_numbers, 0, _numberCount);
        _textCount = 0;
        _numberCount = 0;
    }

    private static int IndexOf<T>(Entry<T>[] entries, int count, string name)
    {
        for (var i = 0; i < count; i++)
        {
            if (string.Equals(entries[i].Name, name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    private static int Append<T>(ref Entry<T>[] entries, ref int count, string name)
    {
        if (count == entries.Length)
        {
            Array.Resize(ref entries, entries.Length * 2);
        }

        entries[count].Name = name;
        return count++;
    }

    private struct Entry<T>
    {
        public string Name;
        public T Value;
    }
}
