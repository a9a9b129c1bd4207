namespace AiEdge.Middleware.Conformance;

/// <summary>
/// One contract check of a store: a name that says what it proves and the check itself, which throws
/// <see cref="ConformanceException"/> when the store breaks the contract. Checks carry no test-framework dependency:
/// run each one as a test case of xUnit (<c>[Theory, MemberData]</c>), NUnit (<c>TestCaseSource</c>) or MSTest
/// (<c>DynamicData</c>), naming the case with <see cref="Name"/>.
/// </summary>
public sealed class ConformanceCheck
{
    private readonly Func<CancellationToken, Task> _run;

    /// <summary>Creates a check.</summary>
    /// <param name="name">What the check proves, e.g. <c>"Claim: two concurrent claims of an absent key, exactly one wins"</c>.</param>
    /// <param name="run">The check; throws <see cref="ConformanceException"/> on a contract violation.</param>
    public ConformanceCheck(string name, Func<CancellationToken, Task> run)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(run);
        Name = name;
        _run = run;
    }

    /// <summary>Gets what the check proves.</summary>
    public string Name { get; }

    /// <summary>Runs the check.</summary>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>A task that fails with <see cref="ConformanceException"/> when the store breaks the contract.</returns>
    public Task RunAsync(CancellationToken cancellationToken = default) => _run(cancellationToken);

    /// <inheritdoc />
    public override string ToString() => Name;
}
