using AiEdge.Middleware.ForwardedHeaders.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.ForwardedHeaders.Tests;

internal static class ResolverFactory
{
    public static ForwardedHeadersResolver Create(Action<EdgeForwardedHeadersOptions>? configure = null)
    {
        var options = new EdgeForwardedHeadersOptions();
        configure?.Invoke(options);
        return new ForwardedHeadersResolver(Options.Create(options));
    }

    public static IpValue Ip(string text)
    {
        Assert.True(IpValue.TryParse(text, out var value), text);
        return value;
    }

    public static ForwardedResolution Resolve(ForwardedHeadersResolver resolver, string peer, params (string Name, string Value)[] headers)
    {
        var dictionary = new HeaderDictionary();
        foreach (var (name, value) in headers)
        {
            dictionary.Append(name, value);
        }

        resolver.Resolve(Ip(peer), dictionary, out var result);
        return result;
    }
}
