namespace AiEdge.Middleware.Redis.Internal;

/// <summary>Redis could not answer: not connected, connection lost, timed out, an error reply or a topology error.</summary>
internal sealed class RedisConnectionException(string message, Exception? inner = null) : Exception(message, inner);
