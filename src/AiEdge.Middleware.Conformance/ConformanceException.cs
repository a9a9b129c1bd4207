namespace AiEdge.Middleware.Conformance;

/// <summary>A store broke its contract: the message says which rule and what was observed.</summary>
public sealed class ConformanceException : Exception
{
    /// <summary>Creates an exception with no message.</summary>
    public ConformanceException()
    {
    }

    /// <summary>Creates an exception naming the broken rule and what was observed.</summary>
    /// <param name="message">The rule and the observation.</param>
    public ConformanceException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception naming the broken rule, with the exception the store threw.</summary>
    /// <param name="message">The rule and the observation.</param>
    /// <param name="innerException">What the store threw.</param>
    public ConformanceException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
