namespace AiEdge.Middleware.Conformance;

/// <summary>
/// Runs one check of a kit by its name, so a test framework can pass only the name string to each test case: list
/// <see cref="Names"/> as the cases (xUnit <c>[Theory, MemberData]</c>, NUnit <c>TestCaseSource</c>, MSTest
/// <c>DynamicData</c>), then, in the case, build the kit's checks against a fresh store and clock and
/// <see cref="Get"/> the one named.
/// </summary>
public static class ConformanceCheckListExtensions
{
    /// <summary>Gets the names of <paramref name="checks"/>, in their order.</summary>
    /// <param name="checks">The checks of one kit, as its <c>Checks(options)</c> returns them.</param>
    /// <returns>One name per check.</returns>
    public static IReadOnlyList<string> Names(this IReadOnlyList<ConformanceCheck> checks)
    {
        ArgumentNullException.ThrowIfNull(checks);
        var names = new string[checks.Count];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = checks[i].Name;
        }

        return names;
    }

    /// <summary>Gets the check named <paramref name="name"/> (compared ordinally).</summary>
    /// <param name="checks">The checks of one kit, as its <c>Checks(options)</c> returns them.</param>
    /// <param name="name">One of <see cref="Names"/>.</param>
    /// <returns>The check.</returns>
    /// <exception cref="ArgumentException">No check has that name (for example, the options that listed the names
    /// yielded a check that these options leave out).</exception>
    public static ConformanceCheck Get(this IReadOnlyList<ConformanceCheck> checks, string name)
    {
        ArgumentNullException.ThrowIfNull(checks);
        ArgumentNullException.ThrowIfNull(name);
        for (var i = 0; i < checks.Count; i++)
        {
            if (string.Equals(checks[i].Name, name, StringComparison.Ordinal))
            {
                return checks[i];
            }
        }

        throw new ArgumentException($"No check is named \"{name}\"; the checks are: {string.Join("; ", checks.Names())}.", nameof(name));
    }
}
