using System.Net;

namespace Infera.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class SoakTests(ServerFixture fixture)
{
    private const int Requests = 1500;
    private const int Concurrency = 8;
    private const int WarmUp = 300;

    [Fact]
    public async Task ThousandsOfShortRequests_NoErrorsAndStableMemory()
    {
        using var http = fixture.CreateClient();
        var next = 0;
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        long afterWarmUp = 0;
        using var warmedUp = new SemaphoreSlim(0);

        async Task WorkerAsync(int worker)
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) <= Requests)
            {
                var streaming = i % 2 == 0;
                var body = i % 3 == 0
                    ? $$"""{"model":"stories260K-gqa","messages":[{"role":"user","content":"Once upon a time {{i}}"}],"max_tokens":4,"stream":{{(streaming ? "true" : "false")}}}"""
                    : $$"""{"model":"stories260K-gqa","prompt":"Lily {{i}}","max_tokens":4,"stream":{{(streaming ? "true" : "false")}}}""";
                using var response = await http.PostAsync(i % 3 == 0 ? "/v1/chat/completions" : "/v1/completions", CompletionsTests.Json(body));
                var text = await response.Content.ReadAsStringAsync();
                if (response.StatusCode != HttpStatusCode.OK || (streaming && !text.EndsWith("data: [DONE]\n\n", StringComparison.Ordinal)) || text.Contains("\"error\"", StringComparison.Ordinal))
                {
                    failures.Add($"{i}: {(int)response.StatusCode} {text}");
                }

                if (i == WarmUp)
                {
                    warmedUp.Release();
                }
            }
        }

        var workers = Enumerable.Range(0, Concurrency).Select(w => Task.Run(() => WorkerAsync(w))).ToArray();
        await warmedUp.WaitAsync(TimeSpan.FromSeconds(60));
        afterWarmUp = ManagedBytes();
        await Task.WhenAll(workers);
        var atEnd = ManagedBytes();

        Assert.Empty(failures);
        Assert.True(await Eventually.TrueAsync(() => fixture.GqaRunner.RunningRequests == 0 && fixture.GqaRunner.QueuedRequests == 0, TimeSpan.FromSeconds(10)));

        // Managed heap after a full collection: growth over 1,200 requests must stay far below what a per-request leak would add.
        Assert.True(atEnd - afterWarmUp < 8 * 1024 * 1024, $"Managed memory grew from {afterWarmUp:N0} to {atEnd:N0} bytes.");
    }

    private static long ManagedBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
