using AiEdge.Middleware.ForwardedHeaders.Internal;

namespace AiEdge.Middleware.ForwardedHeaders.Tests;

public sealed class ForwardedNodeTests
{
    [Theory]
    [InlineData("192.0.2.43", "Address", "192.0.2.43", -1)]
    [InlineData(" 192.0.2.43\t", "Address", "192.0.2.43", -1)]
    [InlineData("192.0.2.43:47011", "Address", "192.0.2.43", 47011)]
    [InlineData("[2001:db8:cafe::17]", "Address", "2001:db8:cafe::17", -1)]
    [InlineData("[2001:db8:cafe::17]:4711", "Address", "2001:db8:cafe::17", 4711)]
    [InlineData("2001:db8:cafe::17", "Address", "2001:db8:cafe::17", -1)]
    [InlineData("[::ffff:192.0.2.1]:80", "Address", "192.0.2.1", 80)]
    [InlineData("192.0.2.43:_abc", "Address", "192.0.2.43", -1)]
    [InlineData("unknown", "Unknown", null, -1)]
    [InlineData("UNKNOWN", "Unknown", null, -1)]
    [InlineData("_hidden", "Obfuscated", null, -1)]
    [InlineData("_SEVKISEK", "Obfuscated", null, -1)]
    [InlineData("_", "Invalid", null, -1)]
    [InlineData("_bad!", "Invalid", null, -1)]
    [InlineData("192.0.2.43:65536", "Invalid", null, -1)]
    [InlineData("192.0.2.43:99999999", "Invalid", null, -1)]
    [InlineData("192.0.2.43:", "Invalid", null, -1)]
    [InlineData("[2001:db8::1", "Invalid", null, -1)]
    [InlineData("[192.0.2.1]", "Invalid", null, -1)]
    [InlineData("[2001:db8::1]x", "Invalid", null, -1)]
    [InlineData("example.com", "Invalid", null, -1)]
    [InlineData("", "Invalid", null, -1)]
    [InlineData("  ", "Invalid", null, -1)]
    public void Parse_Table(string text, string kind, string? address, int port)
    {
        var actual = ForwardedNode.Parse(text, out var value, out var actualPort);
        Assert.Equal(kind, actual.ToString());
        Assert.Equal(port, actualPort);
        if (address is not null)
        {
            Assert.True(IpValue.TryParse(address, out var expected));
            Assert.Equal(expected, value);
        }
    }

    [Theory]
    [InlineData("for=192.0.2.60;proto=http;by=203.0.113.43", "192.0.2.60", "http", "")]
    [InlineData("For=\"[2001:db8:cafe::17]:4711\"", "[2001:db8:cafe::17]:4711", "", "")]
    [InlineData("for=192.0.2.43; proto=https ;host=example.com", "192.0.2.43", "https", "example.com")]
    [InlineData("host=\"api.example.com:8443\";for=_hidden", "_hidden", "", "api.example.com:8443")]
    [InlineData("proto=https", "", "https", "")]
    [InlineData(";for=1.2.3.4;", "1.2.3.4", "", "")]
    [InlineData("ext=\"a,b\";for=1.2.3.4", "1.2.3.4", "", "")]
    public void Element_Parses(string element, string forValue, string proto, string host)
    {
        Assert.True(ForwardedElement.TryParse(element, out var actualFor, out var actualProto, out var actualHost));
        Assert.Equal(forValue, actualFor.ToString());
        Assert.Equal(proto, actualProto.ToString());
        Assert.Equal(host, actualHost.ToString());
    }

    [Theory]
    [InlineData("for=1.2.3.4;for=5.6.7.8")]
    [InlineData("for")]
    [InlineData("for=")]
    [InlineData("for=\"1.2.3.4")]
    [InlineData("for=\"a\\\"b\"")]
    [InlineData("=1.2.3.4")]
    [InlineData("for=1.2.3.4 proto=http")]
    [InlineData("fo r=1.2.3.4")]
    public void Element_Malformed_Fails(string element)
        => Assert.False(ForwardedElement.TryParse(element, out _, out _, out _));
}
