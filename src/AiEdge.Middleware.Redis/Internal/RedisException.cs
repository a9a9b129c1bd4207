namespace AiEdge.Middleware.Redis.Internal;

/// <summary>Redis could not answer: not connected, connection lost, timed out, or a protocol violation.</summary>
internal sealed class RedisConnectionException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Redis answered a command with an error reply.</summary>
internal sealed class RedisServerException(string message) : Exception(message);
