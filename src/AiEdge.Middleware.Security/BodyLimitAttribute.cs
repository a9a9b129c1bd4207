using AiEdge.Middleware.Security.Internal;
using Microsoft.AspNetCore.Http.Metadata;

namespace AiEdge.Middleware.Security;

/// <summary>
/// Limits the request body of a controller, action or route handler, written as NGINX writes sizes
/// (<c>[BodyLimit("1m")]</c>, <c>"512k"</c>, <c>"100m"</c>, bytes; <c>"0"</c> means no limit). It is ASP.NET Core's
/// <see cref="IRequestSizeLimitMetadata"/>, so routing also raises or lowers Kestrel's own limit to match.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method | AttributeTargets.Delegate, AllowMultiple = false, Inherited = true)]
public sealed class BodyLimitAttribute : Attribute, IRequestSizeLimitMetadata
{
    /// <summary>Creates the limit from an NGINX size.</summary>
    /// <param name="size">The size, e.g. <c>1m</c>.</param>
    /// <exception cref="ArgumentException"><paramref name="size"/> is not a size.</exception>
    public BodyLimitAttribute(string size)
    {
        ArgumentNullException.ThrowIfNull(size);
        MaxRequestBodySize = BodySizeParser.Parse(size, nameof(size));
        Size = size;
    }

    /// <summary>Gets the size as written.</summary>
    public string Size { get; }

    /// <summary>Gets the limit in bytes, or <see langword="null"/> for no limit.</summary>
    public long? MaxRequestBodySize { get; }
}
