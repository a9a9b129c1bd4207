using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace AiEdge.Middleware.LoadBench;

/// <summary>Opens many concurrent chat streams and reports time to first event and completion.</summary>
internal static class StreamClient
{
    public static async Task<int> RunAsync(string[] args)
    {
        var url = Arg(args, "--url") ?? throw new ArgumentException("--url is required");
        var count = int.Parse(Arg(args, "--count") ?? "200", CultureInfo.InvariantCulture);
        var body = "{\"model\":\"toy\",\"stream\":true,\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}";

        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = count }) { Timeout = TimeSpan.FromSeconds(60) };
        var firstEvent = new double[count];
        var total = new double[count];
        var failures = 0;
        using var start = new SemaphoreSlim(0);
        var tasks = new Task[count];
        for (var i = 0; i < count; i++)
        {
            var index = i;
            tasks[i] = Task.Run(async () =>
            {
                await start.WaitAsync();
                var clock = Stopwatch.StartNew();
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                    using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                    response.EnsureSuccessStatusCode();
                    await using var stream = await response.Content.ReadAsStreamAsync();
                    var buffer = new byte[4096];
                    var first = true;
                    int read;
                    while ((read = await stream.ReadAsync(buffer)) > 0)
                    {
                        if (first)
                        {
                            firstEvent[index] = clock.Elapsed.TotalMilliseconds;
                            first = false;
                        }
                    }

                    total[index] = clock.Elapsed.TotalMilliseconds;
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref failures);
                    firstEvent[index] = double.NaN;
                    total[index] = double.NaN;
                }
            });
        }

        start.Release(count);
        await Task.WhenAll(tasks);
        var ok = firstEvent.Where(static v => !double.IsNaN(v)).Order().ToArray();
        var done = total.Where(static v => !double.IsNaN(v)).Order().ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"streams={count} failures={failures} ttfe_p50_ms={P(ok, 0.50):F1} ttfe_p99_ms={P(ok, 0.99):F1} total_p50_ms={P(done, 0.50):F1} total_p99_ms={P(done, 0.99):F1}"));
        return failures == 0 ? 0 : 1;
    }

    private static double P(double[] sorted, double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];

    private static string? Arg(string[] args, string name)
    {
        for (var i = 0; i < args.Length - 1; i++)
        {
            if (args[i] == name)
            {
                return args[i + 1];
            }
        }

        return null;
    }
}
