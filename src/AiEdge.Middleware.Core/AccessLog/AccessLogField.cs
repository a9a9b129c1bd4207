namespace AiEdge.Middleware;

/// <summary>
/// A field a package adds to the access log: the decision a request recorded under <see cref="DecisionName"/> in its
/// <see cref="AiEdgeDecisionsFeature"/>, written as <c>name=value</c> after the fields Core knows. Register it with
/// <c>edge.AddAccessLogField(...)</c>; a concern does so when it is added, so the line shows what the app uses.
/// </summary>
/// <remarks>
/// <para>A request that recorded nothing under <see cref="DecisionName"/> leaves the field out of its line; when no
/// registered field has a value, the line is Core's alone and writing it allocates nothing more. Text values are
/// written as recorded (keep them bounded: tier names, decisions, reasons); numbers recorded in seconds with
/// <see cref="AiEdgeDecisionsFeature.Add"/> are written in milliseconds, like <c>rt</c> and <c>ut</c>.</para>
/// <para>Structured providers receive the added fields together as the event's <c>Fields</c> value.</para>
/// </remarks>
public sealed class AccessLogField
{
    private AccessLogField(string name, string decisionName, bool seconds)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(decisionName);
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_' && c != '.')
            {
                throw new ArgumentException("An access-log field name is made of ASCII letters, digits, '_' and '.': '" + name + "'.", nameof(name));
            }
        }

        Name = name;
        DecisionName = decisionName;
        IsSeconds = seconds;
    }

    /// <summary>Gets the name written before <c>=</c> in the line, e.g. <c>conc</c>.</summary>
    public string Name { get; }

    /// <summary>Gets the name the value is recorded under in <see cref="AiEdgeDecisionsFeature"/>, e.g. <c>aiedge.concurrency.decision</c>.</summary>
    public string DecisionName { get; }

    /// <summary>Gets whether the value is a number of seconds (read with <see cref="AiEdgeDecisionsFeature.TryGetTotal"/>, written in milliseconds) rather than text (read with <see cref="AiEdgeDecisionsFeature.Get"/>).</summary>
    public bool IsSeconds { get; }

    /// <summary>A field showing the text recorded with <see cref="AiEdgeDecisionsFeature.Set"/> under <paramref name="decisionName"/>.</summary>
    /// <param name="name">The name in the line: ASCII letters, digits, <c>_</c> and <c>.</c>.</param>
    /// <param name="decisionName">The decision's name in the feature.</param>
    /// <returns>The field.</returns>
    public static AccessLogField Text(string name, string decisionName) => new(name, decisionName, seconds: false);

    /// <summary>A field showing, in milliseconds, the seconds added with <see cref="AiEdgeDecisionsFeature.Add"/> under <paramref name="decisionName"/>.</summary>
    /// <param name="name">The name in the line: ASCII letters, digits, <c>_</c> and <c>.</c>.</param>
    /// <param name="decisionName">The number's name in the feature.</param>
    /// <returns>The field.</returns>
    public static AccessLogField Milliseconds(string name, string decisionName) => new(name, decisionName, seconds: true);
}
