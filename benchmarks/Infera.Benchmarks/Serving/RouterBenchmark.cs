using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Infera.Cli.Load;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Infera.Benchmarks.Serving;

/// <summary>
/// What <c>infera router</c> costs and buys, over real HTTP on 127.0.0.1: two <c>infera serve</c> processes on
/// stories260K-gqa (each pinned to its own core with <c>taskset</c> where the machine has two or more and taskset exists),
/// and the router (Infera.Router, in this process) over the first backend alone and over both. Closed-loop clients
/// stream <c>/v1/completions</c> (infera bench serve's load client), interleaved over rounds:
/// overhead, direct vs through the router to the same backend (TTFT p50 at concurrency 1, output tok/s at 8);
/// scaling, one backend vs the router over two at concurrency 16.
/// </summary>
/// <remarks><c>dotnet run -c Release --project benchmarks/Infera.Benchmarks -- router [--model DIR] [--requests 64] [--max-tokens 64] [--rounds 3]</c>;
/// build <c>src/Infera.Cli</c> in the same configuration first (the backends are its <c>infera</c> executable).</remarks>
public static partial class RouterBenchmark
{
    private const string Story = "Once upon a time there was a little girl named Lily who lived in a small house near the woods with her mom and dad and a big brown dog called Max";

    public static async Task<int> RunAsync(string[] args)
    {
        var modelPath = ModelBenchmarks.Option(args, "--model") ?? Path.Combine(ModelBenchmarks.SharedModels(), "stories260K-gqa");
        var requests = int.Parse(ModelBenchmarks.Option(args, "--requests") ?? "64", CultureInfo.InvariantCulture);
        var maxTokens = int.Parse(ModelBenchmarks.Option(args, "--max-tokens") ?? "64", CultureInfo.InvariantCulture);
        var rounds = int.Parse(ModelBenchmarks.Option(args, "--rounds") ?? "3", CultureInfo.InvariantCulture);
        bool pin = Environment.ProcessorCount >= 2 && File.Exists("/usr/bin/taskset");

        var first = await StartBackendAsync(modelPath, pin ? 0 : null);
        var second = await StartBackendAsync(modelPath, pin ? 1 : null);
        try
        {
            await using var routerOne = await StartRouterAsync([first.Url]);
            await using var routerTwo = await StartRouterAsync([first.Url, second.Url]);
            using var direct = Client(first.Url);
            using var viaOne = Client(routerOne.Url);
            using var viaTwo = Client(routerTwo.Url);

            Console.WriteLine($"# router benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
            Console.WriteLine($"machine: {MachineDescription.Cpu()}, {Environment.ProcessorCount} logical CPUs, {MachineDescription.InstructionSets()}, {RuntimeInformation.OSDescription}, .NET {Environment.Version}; load average at start: {MachineDescription.LoadAverage()}");
            Console.WriteLine($"backends: 2 x infera serve {Path.GetFileName(modelPath)} (default flags){(pin ? ", pinned to CPU 0 and CPU 1 (taskset)" : ", not pinned")}; {requests} requests per level, max_tokens {maxTokens}, {rounds} interleaved rounds");

            foreach (var http in new[] { direct, viaOne, viaTwo })
            {
                await LevelAsync(http, 4, 16, maxTokens); // warm-up
            }

            var runs = new Dictionary<string, List<LoadLevel>>();
            void Add(string name, LoadLevel level)
            {
                (runs.TryGetValue(name, out var list) ? list : runs[name] = []).Add(level);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-26} {level.OutputTokensPerSecond,8:F0} tok/s, TTFT p50 {level.TimeToFirstTokenP50,7:F2} ms, errors {level.Errors}"));
            }

            for (int round = 0; round < rounds; round++)
            {
                Console.WriteLine($"round {round + 1}");

                // Alternate which goes first, so that neither always meets the warmer machine.
                var order = round % 2 == 0 ? new[] { ("direct", direct), ("router", viaOne) } : new[] { ("router", viaOne), ("direct", direct) };
                foreach (var (name, http) in order)
                {
                    Add($"{name} c=1", await LevelAsync(http, 1, Math.Max(8, requests / 4), maxTokens));
                    Add($"{name} c=8", await LevelAsync(http, 8, requests, maxTokens));
                }

                var scaling = round % 2 == 0 ? new[] { ("1 backend c=16", direct), ("router 2 backends c=16", viaTwo) } : new[] { ("router 2 backends c=16", viaTwo), ("1 backend c=16", direct) };
                foreach (var (name, http) in scaling)
                {
                    Add(name, await LevelAsync(http, 16, requests * 2, maxTokens));
                }
            }

            Console.WriteLine();
            Console.WriteLine("| run | output tok/s (median) | TTFT p50 ms (median) | errors |");
            Console.WriteLine("| --- | ---: | ---: | ---: |");
            foreach (var (name, list) in runs)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {ModelBenchmarks.Median(list.Select(l => l.OutputTokensPerSecond)):F0} | {ModelBenchmarks.Median(list.Select(l => l.TimeToFirstTokenP50)):F2} | {list.Sum(l => l.Errors)} |"));
            }

            Console.WriteLine();
            Console.WriteLine(Ratio(runs, "router c=1", "direct c=1", l => l.TimeToFirstTokenP50, "TTFT p50 router/direct, c=1"));
            Console.WriteLine(Ratio(runs, "router c=8", "direct c=8", l => l.OutputTokensPerSecond, "output tok/s router/direct, c=8"));
            Console.WriteLine(Ratio(runs, "router c=8", "direct c=8", l => l.TimeToFirstTokenP50, "TTFT p50 router/direct, c=8"));
            Console.WriteLine(Ratio(runs, "router 2 backends c=16", "1 backend c=16", l => l.OutputTokensPerSecond, "output tok/s 2 backends/1, c=16"));
            Console.WriteLine($"load average at end: {MachineDescription.LoadAverage()}");
            return 0;
        }
        finally
        {
            Stop(first.Process);
            Stop(second.Process);
        }
    }

    private static string Ratio(Dictionary<string, List<LoadLevel>> runs, string a, string b, Func<LoadLevel, double> select, string label)
    {
        var ratios = runs[a].Zip(runs[b], (x, y) => select(x) / select(y)).ToList();
        return string.Create(CultureInfo.InvariantCulture, $"{label}: per round [{string.Join(", ", ratios.Select(r => r.ToString("F3", CultureInfo.InvariantCulture)))}], median {ModelBenchmarks.Median(ratios):F3}");
    }

    private static Task<LoadLevel> LevelAsync(HttpClient http, int concurrency, int count, int maxTokens) =>
        CompletionLoad.RunLevelAsync(http, "tiny", concurrency, count, Prompt, maxTokens, CancellationToken.None);

    private static HttpClient Client(Uri url) =>
        new(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = url, Timeout = TimeSpan.FromMinutes(5) };

    /// <summary>Different prompts (rotated story words), so that requests spread over the backends and do not all decode the same text.</summary>
    private static string Prompt(int i)
    {
        var words = Story.Split(' ');
        var shift = i % words.Length;
        return string.Join(' ', words.Skip(shift).Concat(words.Take(shift)).Take(24));
    }

    private static async Task<(Process Process, Uri Url)> StartBackendAsync(string modelPath, int? cpu)
    {
        var infera = InferaExecutable();
        var port = FreePort();
        var arguments = $"serve --model \"{modelPath}\" --model-id tiny --port {port} --no-ui";
        var info = cpu is { } core
            ? new ProcessStartInfo("/usr/bin/taskset", $"-c {core} \"{infera}\" {arguments}")
            : new ProcessStartInfo(infera, arguments);
        info.RedirectStandardError = true;
        info.RedirectStandardOutput = true;
        info.UseShellExecute = false;
        var process = Process.Start(info)!;
        _ = process.StandardOutput.ReadToEndAsync();
        while (await process.StandardError.ReadLineAsync() is { } line)
        {
            if (ServingLine().IsMatch(line))
            {
                _ = process.StandardError.ReadToEndAsync();
                return (process, new Uri($"http://127.0.0.1:{port}"));
            }
        }

        throw new InvalidOperationException($"infera serve did not start ({infera}).");
    }

    private static async Task<RouterApp> StartRouterAsync(Uri[] backends)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddInferaRouter(options =>
        {
            foreach (var backend in backends)
            {
                options.Backends.Add(backend);
            }
        });
        var app = builder.Build();
        app.MapInferaRouter();
        await app.StartAsync();
        var url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        using var http = new HttpClient { BaseAddress = url };
        await http.GetStringAsync("/v1/models");
        return new RouterApp(app, url);
    }

    private static string InferaExecutable()
    {
        var repository = new DirectoryInfo(AppContext.BaseDirectory);
        while (repository is not null && !File.Exists(Path.Combine(repository.FullName, "Sdk.sln")))
        {
            repository = repository.Parent;
        }

        var name = OperatingSystem.IsWindows() ? "infera.exe" : "infera";
        var candidates = new[] { "Release", "Debug" }.Select(c => Path.Combine(repository?.FullName ?? ".", "src", "Infera.Cli", "bin", c, "net10.0", name));
        return candidates.FirstOrDefault(File.Exists) ?? throw new FileNotFoundException("Build src/Infera.Cli first: the backends are its infera executable.", candidates.First());
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void Stop(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        process.WaitForExit();
        process.Dispose();
    }

    [GeneratedRegex(@"^infera: serving ")]
    private static partial Regex ServingLine();

    private sealed class RouterApp(WebApplication app, Uri url) : IAsyncDisposable
    {
        public Uri Url { get; } = url;

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
