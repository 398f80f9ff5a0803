using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Infera.Cli.Load;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Infera.Benchmarks.Serving;

/// <summary>
/// Serving under load, like vLLM's serving benchmark, over real HTTP on 127.0.0.1: one Kestrel server (Infera.Server)
/// serves the same model twice, batched through GenAI's Engine and one generator per request (the peer), and closed-loop
/// clients stream <c>/v1/completions</c> at concurrency 1 and 8, interleaved over several rounds. Then memory: the
/// process's resident set after 500 and after 5,000 requests on the batched model.
/// </summary>
/// <remarks>
/// <c>dotnet run -c Release --project benchmarks/Infera.Benchmarks -- serving [--model DIR] [--requests 160]
/// [--max-tokens 128] [--rounds 3] [--threads 1] [--memory-requests 5000]</c>. Server and clients share the machine, as
/// with <c>infera bench serve</c> against <c>infera serve</c> on one host.
/// </remarks>
public static class ServingBenchmark
{
    private const string Batched = "batched";
    private const string PerRequest = "per-request";
    private const string Story = "Once upon a time there was a little girl named Lily who lived in a small house near the woods with her mom and dad and a big brown dog called Max";

    public static async Task<int> RunAsync(string[] args)
    {
        var modelPath = ModelBenchmarks.Option(args, "--model") ?? Path.Combine(ModelBenchmarks.SharedModels(), "stories260K-gqa");
        var requests = int.Parse(ModelBenchmarks.Option(args, "--requests") ?? "160", CultureInfo.InvariantCulture);
        var maxTokens = int.Parse(ModelBenchmarks.Option(args, "--max-tokens") ?? "128", CultureInfo.InvariantCulture);
        var rounds = int.Parse(ModelBenchmarks.Option(args, "--rounds") ?? "3", CultureInfo.InvariantCulture);
        var threads = int.Parse(ModelBenchmarks.Option(args, "--threads") ?? "1", CultureInfo.InvariantCulture);
        var memoryRequests = int.Parse(ModelBenchmarks.Option(args, "--memory-requests") ?? "5000", CultureInfo.InvariantCulture);
        int[] levels = [1, 8];

        await using var batched = await OnnxModelRunner.LoadAsync(modelPath, new OnnxModelRunnerOptions { MaxConcurrentRequests = 8, MaxQueuedRequests = 1024, IntraOpThreads = threads });
        await using var perRequest = await OnnxModelRunner.LoadAsync(modelPath, new OnnxModelRunnerOptions { MaxConcurrentRequests = 8, MaxQueuedRequests = 1024, IntraOpThreads = threads, EnableBatching = false });
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddInferaServer(options => options.AddModel(batched, Batched).AddModel(perRequest, PerRequest));
        await using var app = builder.Build();
        app.MapInferaEndpoints();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = new Uri(address), Timeout = TimeSpan.FromMinutes(5) };

        Console.WriteLine($"# serving benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Console.WriteLine($"machine: {MachineDescription.Cpu()}, {Environment.ProcessorCount} logical CPUs, {MachineDescription.InstructionSets()}, {RuntimeInformation.OSDescription}, .NET {Environment.Version}; load average at start: {MachineDescription.LoadAverage()}");
        Console.WriteLine($"model: {batched.Metadata.ModelId} ({batched.SchedulingModeReason}), {threads} intra-op thread(s); {requests} requests per level, max_tokens {maxTokens}, {rounds} interleaved rounds");

        foreach (var model in new[] { Batched, PerRequest })
        {
            await LoadLevelAsync(http, model, 2, 8, maxTokens); // warm-up
        }

        var samples = new Dictionary<(string Model, int Concurrency), List<LoadLevel>>();
        for (var round = 0; round < rounds; round++)
        {
            foreach (var model in new[] { Batched, PerRequest })
            {
                foreach (var concurrency in levels)
                {
                    var level = await LoadLevelAsync(http, model, concurrency, requests, maxTokens);
                    (samples.TryGetValue((model, concurrency), out var list) ? list : samples[(model, concurrency)] = []).Add(level);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round + 1} {model,-11} c={concurrency}: {level.OutputTokensPerSecond,8:F0} tok/s, TTFT p50 {level.TimeToFirstTokenP50,6:F2} ms, ITL p99 {level.InterTokenP99,6:F2} ms, TPOT p99 {level.TimePerOutputTokenP99,6:F3} ms, errors {level.Errors}"));
                }
            }
        }

        Console.WriteLine();
        Console.WriteLine("| model | concurrency | output tok/s | req/s | TTFT p50 ms | TTFT p99 ms | ITL p50 ms | ITL p99 ms | TPOT p50 ms | TPOT p99 ms | errors |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var ((model, concurrency), list) in samples)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {model} | {concurrency} | {Median(list, l => l.OutputTokensPerSecond):F0} | {Median(list, l => l.RequestsPerSecond):F1} | {Median(list, l => l.TimeToFirstTokenP50):F2} | {Median(list, l => l.TimeToFirstTokenP99):F2} | {Median(list, l => l.InterTokenP50):F2} | {Median(list, l => l.InterTokenP99):F2} | {Median(list, l => l.TimePerOutputTokenP50):F3} | {Median(list, l => l.TimePerOutputTokenP99):F3} | {list.Sum(l => l.Errors)} |"));
        }

        Console.WriteLine();
        foreach (var model in new[] { Batched, PerRequest })
        {
            var one = samples[(model, 1)];
            var eight = samples[(model, 8)];
            var throughput = one.Zip(eight, (a, b) => b.OutputTokensPerSecond / a.OutputTokensPerSecond).ToList();
            var itl = one.Zip(eight, (a, b) => b.InterTokenP99 / a.InterTokenP99).ToList();
            var tpot = one.Zip(eight, (a, b) => b.TimePerOutputTokenP99 / a.TimePerOutputTokenP99).ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{model}: output tok/s c8/c1 per round [{string.Join(", ", throughput.Select(r => r.ToString("F2", CultureInfo.InvariantCulture)))}] median {ModelBenchmarks.Median(throughput):F2}x; " +
                $"ITL p99 c8/c1 median {ModelBenchmarks.Median(itl):F2}x; TPOT p99 c8/c1 median {ModelBenchmarks.Median(tpot):F2}x"));
        }

        // Memory: resident set after a full collection, after 500 requests and after memoryRequests in total.
        var done = 0;
        var memory = new List<(int Requests, long Resident, long Managed)>();
        foreach (var target in new[] { 500, memoryRequests })
        {
            var level = await LoadLevelAsync(http, Batched, 8, target - done, 32);
            done = target;
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            using var process = Process.GetCurrentProcess();
            memory.Add((target, process.WorkingSet64, GC.GetTotalMemory(false)));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"after {target} requests (errors {level.Errors}): resident {process.WorkingSet64 / 1048576.0:F1} MiB, managed heap {GC.GetTotalMemory(false) / 1048576.0:F1} MiB"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"resident after {memoryRequests} / after 500: {(double)memory[1].Resident / memory[0].Resident:F3}; managed: {(double)memory[1].Managed / memory[0].Managed:F3}; load average at end: {MachineDescription.LoadAverage()}"));
        await app.StopAsync();
        return 0;
    }

    private static double Median(List<LoadLevel> levels, Func<LoadLevel, double> select) => ModelBenchmarks.Median(levels.Select(select));

    private static async Task<LoadLevel> LoadLevelAsync(HttpClient http, string model, int concurrency, int count, int maxTokens) =>
        await CompletionLoad.RunLevelAsync(http, model, concurrency, count, Prompt, maxTokens, CancellationToken.None);

    /// <summary>Different prompts (rotated story words) so that requests do not all decode the same text.</summary>
    private static string Prompt(int i)
    {
        var words = Story.Split(' ');
        var shift = i % words.Length;
        return string.Join(' ', words.Skip(shift).Concat(words.Take(shift)).Take(24));
    }

}
