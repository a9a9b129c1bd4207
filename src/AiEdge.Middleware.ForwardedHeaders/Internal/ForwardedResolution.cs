namespace AiEdge.Middleware.ForwardedHeaders.Internal;

/// <summary>Why the walk over forwarded hops ended.</summary>
internal enum ForwardedStop : byte
{
    /// <summary>Every hop was read, or recursion is off.</summary>
    Complete,

    /// <summary>The walk reached an untrusted address: the client.</summary>
    Untrusted,

    /// <summary><see cref="EdgeForwardedHeadersOptions.ForwardLimit"/> hops were applied.</summary>
    Limit,

    /// <summary>A hop is <c>unknown</c>, obfuscated, or malformed; nothing to its left was read.</summary>
    Unparsable,

    /// <summary>The header is longer than <see cref="EdgeForwardedHeadersOptions.MaxHeaderLength"/> and was ignored.</summary>
    TooLong,
}

/// <summary>The outcome of resolving one request's forwarded headers.</summary>
internal struct ForwardedResolution
{
    /// <summary>The number of hops applied; 0 leaves the peer as the client.</summary>
    public int AppliedHops;

    /// <summary>The client address (meaningful when <see cref="AppliedHops"/> &gt; 0).</summary>
    public IpValue Client;

    /// <summary>The client port from the applied hop, or -1.</summary>
    public int Port;

    /// <summary>The forwarded scheme (a shared constant), or <see langword="null"/>.</summary>
    public string? Scheme;

    /// <summary>The forwarded host, or <see langword="null"/>.</summary>
    public string? Host;

    /// <summary>The forwarded path base, or <see langword="null"/>.</summary>
    public string? PathBase;

    /// <summary>Why the walk ended.</summary>
    public ForwardedStop Stop;
}
