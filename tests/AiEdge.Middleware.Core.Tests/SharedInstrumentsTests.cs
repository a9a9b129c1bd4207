using System.Diagnostics.Metrics;
using AiEdge.Middleware.Internal;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Core.Tests;

/// <summary>
/// Every package creates the instruments it shares with others from one definition; the meter factory hands out one
/// meter per name and the meter one instrument per identical definition, so the copies are one series.
/// </summary>
public sealed class SharedInstrumentsTests
{
    [Fact]
    public void SameDefinition_CreatedByTwoOwners_IsOneInstrument()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        var published = new List<Instrument>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    published.Add(instrument);
                }
            },
        };
        listener.Start();

        var first = SharedInstruments.Meter(factory);
        var second = SharedInstruments.Meter(factory);

        Assert.Same(first, second);
        Assert.Same(SharedInstruments.Rejections(first), SharedInstruments.Rejections(second));
        Assert.Same(SharedInstruments.ClientDisconnects(first), SharedInstruments.ClientDisconnects(second));
        Assert.Same(SharedInstruments.BackendBrokenStreams(first), SharedInstruments.BackendBrokenStreams(second));
        Assert.Single(published, static i => i.Name == "aiedge.rejections");
    }

    [Fact]
    public void ADifferentDescription_WouldBeASecondInstrument()
    {
        // Why the shared definitions live in one file: the meter only reuses an instrument of the same kind, name,
        // unit, description and tags.
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meter = SharedInstruments.Meter(services.GetRequiredService<IMeterFactory>());

        var shared = SharedInstruments.Rejections(meter);
        var drifted = meter.CreateCounter<long>("aiedge.rejections", "{request}", "Requests refused.");

        Assert.NotSame(shared, drifted);
    }
}
