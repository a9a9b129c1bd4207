namespace AiEdge.Samples.Gateway.Tests;

/// <summary>One gateway in front of three healthy vLLM replicas and a Qdrant, shared by the tests of a class.</summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    /// <summary>Gets the vLLM replicas.</summary>
    public List<FakeVllm> Vllm { get; } = [];

    /// <summary>Gets the Qdrant fake.</summary>
    public FakeQdrant Qdrant { get; private set; } = null!;

    /// <summary>Gets the gateway.</summary>
    public GatewayFactory Gateway { get; private set; } = null!;

    /// <summary>Gets a client of the gateway on Kestrel.</summary>
    public HttpClient Client { get; private set; } = null!;

    /// <summary>Gets every request the vLLM replicas saw.</summary>
    public IEnumerable<SeenRequest> VllmRequests => Vllm.SelectMany(v => v.Requests);

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        for (var i = 0; i < 3; i++)
        {
            Vllm.Add(await FakeVllm.StartAsync("gpu-" + i));
        }

        Qdrant = await FakeQdrant.StartAsync();
        Gateway = new GatewayFactory([.. Vllm.Select(v => v.BaseAddress)], Qdrant.BaseAddress);
        var address = Gateway.StartKestrel();
        Client = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = address };
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Gateway.DisposeAsync();
        foreach (var vllm in Vllm)
        {
            await vllm.DisposeAsync();
        }

        await Qdrant.DisposeAsync();
    }
}
