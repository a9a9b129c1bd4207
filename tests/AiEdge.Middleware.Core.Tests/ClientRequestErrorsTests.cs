using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;

namespace AiEdge.Middleware.Core.Tests;

public sealed class ClientRequestErrorsTests
{
    public static TheoryData<string, Exception, int> Cases => new()
    {
        { "bad request", new BadHttpRequestException("bad"), 400 },
        { "too large", new BadHttpRequestException("large", StatusCodes.Status413PayloadTooLarge), 413 },
        { "too slow", new BadHttpRequestException("slow", StatusCodes.Status408RequestTimeout), 408 },
        { "wrapped bad request", new InvalidOperationException("reader", new IOException("wrap", new BadHttpRequestException("large", 413))), 413 },
        { "connection reset", new ConnectionResetException("reset"), ClientRequestErrors.ClientClosedRequest },
        { "wrapped connection abort", new IOException("wrap", new ConnectionAbortedException("gone")), ClientRequestErrors.ClientClosedRequest },
        { "the application's IOException", new IOException("disk full"), 0 },
        { "the application's failure", new InvalidOperationException("model crashed"), 0 },
        { "the application's own cancellation", new OperationCanceledException(), 0 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void StatusFor_TellsClientErrorsFromApplicationFailures(string name, Exception exception, int status)
        => Assert.True(status == ClientRequestErrors.StatusFor(exception, CancellationToken.None), name);

    [Fact]
    public void StatusFor_CancellationOrIOAfterTheClientLeft_IsClientClosed()
    {
        using var aborted = new CancellationTokenSource();
        aborted.Cancel();

        Assert.Equal(ClientRequestErrors.ClientClosedRequest, ClientRequestErrors.StatusFor(new OperationCanceledException(), aborted.Token));
        Assert.Equal(ClientRequestErrors.ClientClosedRequest, ClientRequestErrors.StatusFor(new IOException("The client disconnected."), aborted.Token));
    }

    [Fact]
    public void StatusFor_AnIOExceptionThrownByTheApplication_IsItsFailure()
    {
        // Only an IOException thrown inside the server is the client's framing error (the sockets tests cover that).
        Exception thrown;
        try
        {
            throw new IOException("disk full");
        }
        catch (IOException exception)
        {
            thrown = exception;
        }

        Assert.Equal(0, ClientRequestErrors.StatusFor(thrown, CancellationToken.None));
    }
}
