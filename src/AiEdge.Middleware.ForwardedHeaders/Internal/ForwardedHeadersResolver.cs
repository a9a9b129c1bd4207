using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace AiEdge.Middleware.ForwardedHeaders.Internal;

/// <summary>
/// Resolves the client address, scheme, host and path base from the forwarded headers of a request whose peer
/// is trusted. Reads the options once; resolving never throws and, for address hops, never allocates.
/// </summary>
internal sealed class ForwardedHeadersResolver
{
    internal const string ForwardedHeader = "Forwarded";
    internal const string XForwardedForHeader = "X-Forwarded-For";
    internal const string XForwardedProtoHeader = "X-Forwarded-Proto";
    internal const string XForwardedHostHeader = "X-Forwarded-Host";
    internal const string XForwardedPrefixHeader = "X-Forwarded-Prefix";
    internal const string XRealIpHeader = "X-Real-IP";
    private const int MaxLimit = 64;

    private readonly TrustedNetwork[] _trusted;
    private readonly ForwardedHeaderSources _headers;
    private readonly bool _recursive;
    private readonly int _limit;
    private readonly int _maxLength;

    public ForwardedHeadersResolver(IOptions<EdgeForwardedHeadersOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var value = options.Value;
        Enabled = value.Enabled && value.Headers != ForwardedHeaderSources.None;
        _trusted = ParseTrusted(value.TrustedProxies);
        _headers = value.Headers;
        _recursive = value.RecursiveSearch;
        _limit = Math.Clamp(value.ForwardLimit, 1, MaxLimit);
        _maxLength = value.MaxHeaderLength;
    }

    public bool Enabled { get; }

    /// <summary>The trusted proxy ranges, as configured or the loopback default.</summary>
    internal IEnumerable<IPNetwork> TrustedNetworks => _trusted.Select(static network => network.Network);

    internal static TrustedNetwork[] ParseTrusted(IReadOnlyList<string?> configured)
    {
        IReadOnlyList<string?> entries = configured.Count == 0 ? EdgeForwardedHeadersOptions.DefaultTrustedProxies : configured;
        var networks = new List<TrustedNetwork>(entries.Count);
        foreach (var entry in entries)
        {
            if (entry is not null && TrustedNetwork.TryParse(entry, out var network))
            {
                networks.Add(new TrustedNetwork(network));
            }
        }

        return [.. networks];
    }

    public bool IsTrusted(in IpValue address)
    {
        foreach (var network in _trusted)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Resolves the forwarded headers of a request whose connected peer <paramref name="peer"/> is trusted.</summary>
    public void Resolve(in IpValue peer, IHeaderDictionary headers, out ForwardedResolution result)
    {
        result = default;
        result.Client = peer;
        result.Port = -1;

        if ((_headers & ForwardedHeaderSources.Forwarded) != 0 && headers.TryGetValue(ForwardedHeader, out var forwarded) && forwarded.Count > 0)
        {
            ResolveForwarded(forwarded, ref result);
        }
        else
        {
            if ((_headers & ForwardedHeaderSources.XForwardedFor) != 0 && headers.TryGetValue(XForwardedForHeader, out var xff) && xff.Count > 0)
            {
                ResolveList(xff, ref result);
            }
            else if ((_headers & ForwardedHeaderSources.XRealIp) != 0 && headers.TryGetValue(XRealIpHeader, out var realIp) && realIp.Count > 0)
            {
                ResolveRealIp(realIp, ref result);
            }

            var aligned = Math.Max(result.AppliedHops - 1, 0);
            if ((_headers & ForwardedHeaderSources.XForwardedProto) != 0 && headers.TryGetValue(XForwardedProtoHeader, out var proto))
            {
                result.Scheme = MatchScheme(Aligned(proto, aligned));
            }

            if ((_headers & ForwardedHeaderSources.XForwardedHost) != 0 && headers.TryGetValue(XForwardedHostHeader, out var host))
            {
                var value = Aligned(host, aligned).Trim(" \t");
                result.Host = IsValidHost(value) ? Materialize(host, value) : null;
            }
        }

        if ((_headers & ForwardedHeaderSources.XForwardedPrefix) != 0 && headers.TryGetValue(XForwardedPrefixHeader, out var prefix))
        {
            var value = Aligned(prefix, Math.Max(result.AppliedHops - 1, 0)).Trim(" \t");
            if (IsValidPrefix(value))
            {
                value = value.TrimEnd('/');
                result.PathBase = value.IsEmpty ? string.Empty : Materialize(prefix, value);
            }
        }
    }

    private void ResolveList(StringValues values, ref ForwardedResolution result)
    {
        if (TotalLength(values) > _maxLength)
        {
            result.Stop = ForwardedStop.TooLong;
            return;
        }

        var reader = new ReverseListReader(values);
        while (reader.TryNext(out var item))
        {
            if (result.AppliedHops == _limit)
            {
                result.Stop = ForwardedStop.Limit;
                return;
            }

            if (!ApplyHop(item, ref result))
            {
                return;
            }
        }
    }

    /// <summary>Applies one hop; returns whether the walk goes on to the hop on its left.</summary>
    private bool ApplyHop(ReadOnlySpan<char> node, ref ForwardedResolution result)
    {
        if (ForwardedNode.Parse(node, out var address, out var port) != NodeKind.Address)
        {
            result.Stop = ForwardedStop.Unparsable;
            return false;
        }

        result.Client = address;
        result.Port = port;
        result.AppliedHops++;
        if (!_recursive)
        {
            return false;
        }

        if (!IsTrusted(address))
        {
            result.Stop = ForwardedStop.Untrusted;
            return false;
        }

        return true;
    }

    private void ResolveRealIp(StringValues values, ref ForwardedResolution result)
    {
        if (TotalLength(values) > _maxLength)
        {
            result.Stop = ForwardedStop.TooLong;
            return;
        }

        if (values.Count != 1 || ForwardedNode.Parse(values[0], out var address, out var port) != NodeKind.Address)
        {
            result.Stop = ForwardedStop.Unparsable;
            return;
        }

        result.Client = address;
        result.Port = port;
        result.AppliedHops = 1;
    }

    private void ResolveForwarded(StringValues values, ref ForwardedResolution result)
    {
        if (TotalLength(values) > _maxLength)
        {
            result.Stop = ForwardedStop.TooLong;
            return;
        }

        // Elements are found left to right (commas inside quoted strings do not split), keeping the last _limit.
        Span<ElementRange> ring = stackalloc ElementRange[_limit];
        var total = 0;
        for (var line = 0; line < values.Count; line++)
        {
            var text = values[line].AsSpan();
            var start = 0;
            var quoted = false;
            for (var i = 0; i < text.Length; i++)
            {
                var c = text[i];
                if (quoted)
                {
                    if (c == '\\')
                    {
                        i++;
                    }
                    else if (c == '"')
                    {
                        quoted = false;
                    }
                }
                else if (c == '"')
                {
                    quoted = true;
                }
                else if (c == ',')
                {
                    ring[total++ % _limit] = new ElementRange(line, start, i - start, malformed: false);
                    start = i + 1;
                }
            }

            ring[total++ % _limit] = new ElementRange(line, start, Math.Min(text.Length, text.Length - start), malformed: quoted);
        }

        ReadOnlySpan<char> proto = default;
        ReadOnlySpan<char> host = default;
        var walked = Math.Min(total, _limit);
        var stopped = false;
        for (var k = 0; k < walked; k++)
        {
            var range = ring[(total - 1 - k) % _limit];
            var element = values[range.Line].AsSpan(range.Start, range.Length);
            if (range.Malformed
                || !ForwardedElement.TryParse(element, out var forValue, out var elementProto, out var elementHost)
                || forValue.IsEmpty)
            {
                result.Stop = ForwardedStop.Unparsable;
                stopped = true;
                break;
            }

            var goOn = ApplyHop(forValue, ref result);
            if (result.Stop == ForwardedStop.Unparsable)
            {
                stopped = true;
                break;
            }

            proto = elementProto;
            host = elementHost;
            if (!goOn)
            {
                stopped = true;
                break;
            }
        }

        if (!stopped && total > _limit)
        {
            result.Stop = ForwardedStop.Limit;
        }

        if (result.AppliedHops > 0)
        {
            result.Scheme = MatchScheme(proto);
            result.Host = IsValidHost(host) ? host.ToString() : null;
        }
    }

    private static int TotalLength(StringValues values)
    {
        var length = 0;
        for (var i = 0; i < values.Count; i++)
        {
            length += values[i]?.Length ?? 0;
        }

        return length;
    }

    /// <summary>The list item <paramref name="indexFromRight"/> places from the right, else the leftmost item.</summary>
    private ReadOnlySpan<char> Aligned(StringValues values, int indexFromRight)
    {
        if (TotalLength(values) > _maxLength)
        {
            return default;
        }

        var reader = new ReverseListReader(values);
        ReadOnlySpan<char> last = default;
        var index = 0;
        while (reader.TryNext(out var item))
        {
            last = item;
            if (index++ == indexFromRight)
            {
                break;
            }
        }

        return last;
    }

    private static string? MatchScheme(ReadOnlySpan<char> value)
    {
        value = value.Trim(" \t");
        if (value.Equals("https", StringComparison.OrdinalIgnoreCase))
        {
            return "https";
        }

        return value.Equals("http", StringComparison.OrdinalIgnoreCase) ? "http" : null;
    }

    /// <summary>Returns the header's own string when <paramref name="value"/> is all of it, else a copy.</summary>
    private static string Materialize(StringValues values, ReadOnlySpan<char> value)
        => values.Count == 1 && values[0] is { } whole && whole.Length == value.Length ? whole : value.ToString();

    internal static bool IsValidHost(ReadOnlySpan<char> host)
    {
        if (host.IsEmpty || host.Length > 255 || host[0] is ':' or '.' or '-')
        {
            return false;
        }

        foreach (var c in host)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '-' or ':' or '[' or ']' or '_'))
            {
                return false;
            }
        }

        return true;
    }

    internal static bool IsValidPrefix(ReadOnlySpan<char> prefix)
    {
        if (prefix.IsEmpty || prefix.Length > 1024 || prefix[0] != '/' || (prefix.Length > 1 && prefix[1] == '/'))
        {
            return false;
        }

        foreach (var c in prefix)
        {
            if (c is < '!' or > '~' or '?' or '#' or '\\' or '%')
            {
                return false;
            }
        }

        return true;
    }

    private readonly struct ElementRange(int line, int start, int length, bool malformed)
    {
        public int Line { get; } = line;

        public int Start { get; } = start;

        public int Length { get; } = length;

        public bool Malformed { get; } = malformed;
    }

    /// <summary>Reads a comma-separated header from the right, across several header lines, without allocating.</summary>
    private ref struct ReverseListReader(StringValues values)
    {
        private readonly StringValues _values = values;
        private int _line = values.Count - 1;
        private ReadOnlySpan<char> _rest;
        private bool _open;

        public bool TryNext(out ReadOnlySpan<char> item)
        {
            if (!_open)
            {
                if (_line < 0)
                {
                    item = default;
                    return false;
                }

                _rest = _values[_line].AsSpan();
                _line--;
                _open = true;
            }

            var comma = _rest.LastIndexOf(',');
            if (comma < 0)
            {
                item = _rest;
                _open = false;
                return true;
            }

            item = _rest[(comma + 1)..];
            _rest = _rest[..comma];
            return true;
        }
    }
}
