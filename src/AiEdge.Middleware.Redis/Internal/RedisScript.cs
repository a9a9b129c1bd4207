using System.Security.Cryptography;
using System.Text;

namespace AiEdge.Middleware.Redis.Internal;

/// <summary>A Lua script and its SHA1, as <c>EVALSHA</c> names it.</summary>
internal sealed class RedisScript
{
    public RedisScript(string name, string text)
    {
        Name = name;
        Text = text;
#pragma warning disable CA5350 // SHA1 is what Redis names scripts by; not used for security.
        Hash = SHA1.HashData(Encoding.UTF8.GetBytes(text));
#pragma warning restore CA5350
        Sha1 = Convert.ToHexStringLower(Hash);
    }

    /// <summary>Gets a short name for logs and metrics.</summary>
    public string Name { get; }

    /// <summary>Gets the Lua source.</summary>
    public string Text { get; }

    /// <summary>Gets the SHA1 of <see cref="Text"/> (20 bytes), as <c>ScriptEvaluateAsync</c> takes it for <c>EVALSHA</c>.</summary>
    public byte[] Hash { get; }

    /// <summary>Gets the lowercase hex SHA1 of <see cref="Text"/>.</summary>
    public string Sha1 { get; }
}
