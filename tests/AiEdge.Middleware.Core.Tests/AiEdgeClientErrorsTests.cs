using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;

namespace AiEdge.Middleware.Core.Tests;

public sealed class AiEdgeClientErrorsTests
{
    public static TheoryData<string, Exception, int> Cases => new()
    {
        { "bad request", new BadHttpRequestException("bad"), 400 },
        { "too large", new BadHttpRequestException("large", StatusCodes.Status413PayloadTooLarge), 413 },
        { "too slow", new BadHttpRequestException("slow", StatusCodes.Status408RequestTimeout), 408 },
        { "wrapped bad request", new InvalidOperationException("reader", new IOException("wrap", new BadHttpRequestException("large", 413))), 413 },
        { "connection reset", new ConnectionResetException("reset"), AiEdgeClientErrors.ClientClosedRequest },
        { "wrapped connection abort", new IOException("wrap", new ConnectionAbortedException("gone")), AiEdgeClientErrors.ClientClosedRequest },
        { "the application's IOException", new IOException("disk full"), 0 },
        { "the application's failure", new InvalidOperationException("model crashed"), 0 },
        { "the application's own cancellation", new OperationCanceledException(), 0 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void StatusFor_TellsClientErrorsFromApplicationFailures(string name, Exception exception, int status)
        => Assert.True(status == StatusFor(exception, CancellationToken.None), name);

    [Fact]
    public void StatusFor_CancellationOrIOAfterTheClientLeft_IsClientClosed()
    {
        using var aborted = new CancellationTokenSource();
        aborted.Cancel();

        Assert.Equal(AiEdgeClientErrors.ClientClosedRequest, StatusFor(new OperationCanceledException(), aborted.Token));
        Assert.Equal(AiEdgeClientErrors.ClientClosedRequest, StatusFor(new IOException("The client disconnected."), aborted.Token));
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

        Assert.Equal(0, StatusFor(thrown, CancellationToken.None));
    }

    [Theory]
    [InlineData(StatusCodes.Status413PayloadTooLarge, "body_too_large")]
    [InlineData(StatusCodes.Status408RequestTimeout, "body_timeout")]
    [InlineData(StatusCodes.Status431RequestHeaderFieldsTooLarge, "headers_too_large")]
    [InlineData(AiEdgeClientErrors.ClientClosedRequest, "client_closed")]
    [InlineData(StatusCodes.Status400BadRequest, "bad_request")]
    public void GetReason_NamesTheStatus(int status, string reason)
        => Assert.Equal(reason, AiEdgeClientErrors.GetReason(status));

    [Fact]
    public void TryGetStatusCode_ApplicationFailure_ReturnsFalseAndZero()
    {
        Assert.False(AiEdgeClientErrors.TryGetStatusCode(new InvalidOperationException("bug"), CancellationToken.None, out var status));
        Assert.Equal(0, status);
        Assert.True(AiEdgeClientErrors.TryGetStatusCode(new BadHttpRequestException("too large", StatusCodes.Status413PayloadTooLarge), CancellationToken.None, out status));
        Assert.Equal(StatusCodes.Status413PayloadTooLarge, status);
    }

    private static int StatusFor(Exception exception, CancellationToken requestAborted)
        => AiEdgeClientErrors.TryGetStatusCode(exception, requestAborted, out var status) ? status : 0;
}
