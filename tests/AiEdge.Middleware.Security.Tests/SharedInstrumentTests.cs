using System.Diagnostics.Metrics;
using System.Net;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Security.Tests;

/// <summary>
/// Two packages create the same instrument (<c>aiedge.rejections</c>): Core's Errors stage for a body the client got
/// wrong, and this package's body limit. The meter hands both the one instrument, so a listener sees one series.
/// </summary>
public sealed class SharedInstrumentTests
{
    [Fact]
    public async Task Rejections_OfCoreAndOfTheBodyLimit_AreOneInstrument()
    {
        await using var app = await Hosts.StartAsync(
            edge => edge.AddBodyLimits(),
            app =>
            {
                app.MapPost("/small", static () => Results.Ok()).WithBodyLimit("1k");
                app.MapPost("/bad", static IResult () => throw new BadHttpRequestException("unreadable", StatusCodes.Status400BadRequest));
            });
        var factory = app.Services.GetRequiredService<IMeterFactory>();
        var published = new List<Instrument>();
        var measured = new List<(Instrument Instrument, string? Concern)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == "aiedge.rejections" && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    lock (published)
                    {
                        published.Add(instrument);
                    }

                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) =>
        {
            string? concern = null;
            foreach (var tag in tags)
            {
                if (tag.Key == AiEdgeDiagnostics.Tags.Concern)
                {
                    concern = tag.Value as string;
                }
            }

            lock (measured)
            {
                measured.Add((instrument, concern));
            }
        });
        listener.Start();

        var tooLarge = await app.Client.PostAsync("/small", new ByteArrayContent(new byte[2048]));
        var bad = await app.Client.PostAsync("/bad", new ByteArrayContent([1]));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        lock (measured)
        {
            var instrument = Assert.Single(published);
            Assert.Contains(measured, m => m.Concern == "bodylimit");
            Assert.Contains(measured, m => m.Concern == "request");
            Assert.All(measured, m => Assert.Same(instrument, m.Instrument));
        }
    }
}
