using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace Infera.Benchmarks.StructuredOutput;

/// <summary>
/// The cost of constrained decoding: decode tokens/s with a JSON schema against the same request without one (same
/// prompt, same model, same process, interleaved runs), through Infera and, as the peer, through a plain ONNX Runtime
/// GenAI generator loop with and without <c>SetGuidance</c>; and the time from request to first token when every request
/// brings a schema (or a tool grammar) never seen before, so that its compilation is included.
/// </summary>
/// <remarks>
/// Usage: <c>structured-output [--model DIR] [--tokens N] [--runs R] [--threads T]</c>. Greedy search. The decode schema
/// is one string property with <c>minLength</c> above the token budget, so that every run decodes exactly N tokens
/// inside the constraint.
/// </remarks>
public static class StructuredOutputBenchmark
{
    private const string Prompt = "Once upon a time";

    public static async Task<int> RunAsync(string[] args)
    {
        var model = ModelBenchmarks.Option(args, "--model") ?? Path.Combine(ModelBenchmarks.SharedModels(), "stories260K-onnx");
        var tokens = int.Parse(ModelBenchmarks.Option(args, "--tokens") ?? "200", CultureInfo.InvariantCulture);
        var runs = int.Parse(ModelBenchmarks.Option(args, "--runs") ?? "15", CultureInfo.InvariantCulture);
        var threads = int.Parse(ModelBenchmarks.Option(args, "--threads") ?? "1", CultureInfo.InvariantCulture);

        await using var runner = await OnnxModelRunner.LoadAsync(model, new OnnxModelRunnerOptions { IntraOpThreads = threads });
        using var client = new InferaChatClient(new FirstTokenProbe(runner));
        using var config = new Config(model);
        config.Overlay("{\"model\":{\"decoder\":{\"session_options\":{\"intra_op_num_threads\":" + threads.ToString(CultureInfo.InvariantCulture) + "}}}}");
        using var plainModel = new Model(config);
        using var plainTokenizer = new Tokenizer(plainModel);
        plainTokenizer.UpdateOptions(new Dictionary<string, string> { ["add_special_tokens"] = "true" });

        var decodeSchema = "{\"type\":\"object\",\"properties\":{\"story\":{\"type\":\"string\",\"minLength\":" + (tokens * 8).ToString(CultureInfo.InvariantCulture) + "}},\"required\":[\"story\"],\"additionalProperties\":false,\"x-guidance\":{\"whitespace_flexible\":false}}";
        var schemaCounter = 0;
        var contestants = new (string Name, Func<Task<Sample>> Run)[]
        {
            ("GenAI generator loop, no constraint (baseline)", () => Task.FromResult(PlainLoop(plainModel, plainTokenizer, tokens, null))),
            ("GenAI generator loop + SetGuidance(json_schema)", () => Task.FromResult(PlainLoop(plainModel, plainTokenizer, tokens, decodeSchema))),
            ("Infera runner, no constraint", () => Run(runner, tokens, null)),
            ("Infera runner + JSON schema", () => Run(runner, tokens, DecodingConstraint.JsonSchema(decodeSchema))),
            ("Infera chat client, text: time to first token", () => ChatFirstToken(client, new ChatOptions { Temperature = 0, MaxOutputTokens = 8 })),
            ("Infera chat client, new JSON schema each request: time to first token", () => ChatFirstToken(client, new ChatOptions { Temperature = 0, MaxOutputTokens = 8, ResponseFormat = ChatResponseFormat.ForJsonSchema(NewSchema(ref schemaCounter)) })),
            ("Infera chat client, new tool grammar each request: time to first token", () => ChatFirstToken(client, new ChatOptions { Temperature = 0, MaxOutputTokens = 8, Tools = [NewTool(ref schemaCounter)], ToolMode = ChatToolMode.RequireAny })),
        };

        var samples = contestants.ToDictionary(c => c.Name, _ => new List<Sample>());
        foreach (var (_, run) in contestants)
        {
            await run(); // warm-up
        }

        for (var i = 0; i < runs; i++)
        {
            foreach (var (name, run) in contestants)
            {
                samples[name].Add(await run());
            }
        }

        double Decode(int i) => ModelBenchmarks.Median(samples[contestants[i].Name].Select(s => s.DecodeTokensPerSecond));
        double FirstToken(int i) => ModelBenchmarks.Median(samples[contestants[i].Name].Select(s => s.TimeToFirstTokenMs));
        Console.WriteLine($"model: {Path.GetFileName(model)}, prompt \"{Prompt}\", {tokens} new tokens, greedy, {threads} thread(s), {runs} interleaved runs after warm-up; medians");
        Console.WriteLine();
        Console.WriteLine("| contestant | tokens | decode tokens/s | vs. the same path unconstrained (median of per-run ratios) | time to first token (ms) |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: |");
        for (var i = 0; i < contestants.Length; i++)
        {
            var list = samples[contestants[i].Name];
            // The ratio is the median of the per-run ratios (constrained run / the unconstrained run just before it), which
            // cancels slow drifts in machine load better than a ratio of medians.
            var ratio = i is 1 or 3 ? ModelBenchmarks.Median(list.Select((s, run) => s.DecodeTokensPerSecond / samples[contestants[i - 1].Name][run].DecodeTokensPerSecond)).ToString("F3", CultureInfo.InvariantCulture) : i is 0 or 2 ? "1" : string.Empty;
            var decode = i < 4 ? Decode(i).ToString("F0", CultureInfo.InvariantCulture) : string.Empty;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {contestants[i].Name} | {list[0].Tokens} | {decode} | {ratio} | {FirstToken(i):F2} |"));
        }

        return 0;
    }

    /// <summary>A schema no earlier request used, so that its grammar is compiled for this request.</summary>
    private static JsonElement NewSchema(ref int counter)
    {
        var name = "field" + (++counter).ToString(CultureInfo.InvariantCulture);
        return JsonDocument.Parse("{\"type\":\"object\",\"properties\":{\"" + name + "\":{\"type\":\"string\",\"maxLength\":40},\"count\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":99},\"mood\":{\"enum\":[\"happy\",\"sad\"]}},\"required\":[\"" + name + "\",\"count\",\"mood\"]}").RootElement;
    }

    private static AIFunctionDeclaration NewTool(ref int counter)
    {
        var name = "tool" + (++counter).ToString(CultureInfo.InvariantCulture);
        return AIFunctionFactory.CreateDeclaration(name, null, JsonDocument.Parse("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\",\"maxLength\":20},\"days\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":7}},\"required\":[\"city\",\"days\"]}").RootElement);
    }

    private static Sample PlainLoop(Model model, Tokenizer tokenizer, int tokens, string? schema)
    {
        var clock = Stopwatch.StartNew();
        using var sequences = tokenizer.Encode(Prompt);
        using var generatorParams = new GeneratorParams(model);
        generatorParams.SetSearchOption("max_length", sequences[0].Length + tokens);
        generatorParams.SetSearchOption("do_sample", false);
        if (schema is not null)
        {
            generatorParams.SetGuidance("json_schema", schema, false);
        }

        using var generator = new Generator(model, generatorParams);
        using var stream = tokenizer.CreateStream();
        generator.AppendTokens(sequences[0]);
        TimeSpan first = default;
        var count = 0;
        var text = 0;
        while (!generator.IsDone())
        {
            generator.GenerateNextToken();
            text += stream.Decode(generator.GetNextTokens()[0]).Length;
            if (count++ == 0)
            {
                first = clock.Elapsed;
            }
        }

        var last = clock.Elapsed;
        GC.KeepAlive(text);
        return new Sample(count, first.TotalMilliseconds, (count - 1) / (last - first).TotalSeconds);
    }

    private static async Task<Sample> Run(IModelRunner runner, int tokens, DecodingConstraint? constraint)
    {
        var clock = Stopwatch.StartNew();
        TimeSpan first = default, last = default;
        var count = 0;
        var request = new GenerationRequest(Prompt, new GenerationOptions { Temperature = 0, MaxNewTokens = tokens, Constraint = constraint });
        await foreach (var update in runner.GenerateAsync(request))
        {
            if (count++ == 0)
            {
                first = clock.Elapsed;
            }

            last = clock.Elapsed;
        }

        return new Sample(count, first.TotalMilliseconds, (count - 1) / (last - first).TotalSeconds);
    }

    /// <summary>Time from the chat request to the first generated token (prompt rendering, grammar building and compilation, prefill and one step).</summary>
    private static async Task<Sample> ChatFirstToken(IChatClient client, ChatOptions options)
    {
        var probe = client.GetService<FirstTokenProbe>()!;
        probe.Start();
        var count = 0;
        await foreach (var update in client.GetStreamingResponseAsync(Prompt, options))
        {
            count++;
        }

        return new Sample(count, probe.FirstTokenMs, double.NaN);
    }

    /// <summary>A runner that notes when its inner runner produced the first token of the latest request.</summary>
    private sealed class FirstTokenProbe(IModelRunner inner) : IModelRunner
    {
        private Stopwatch _clock = new();

        public double FirstTokenMs { get; private set; }

        public ModelMetadata Metadata => inner.Metadata;

        public ITokenizer Tokenizer => inner.Tokenizer;

        public void Start()
        {
            FirstTokenMs = double.NaN;
            _clock = Stopwatch.StartNew();
        }

        public async IAsyncEnumerable<TokenUpdate> GenerateAsync(GenerationRequest request, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await foreach (var update in inner.GenerateAsync(request, cancellationToken))
            {
                if (update.Index == 0)
                {
                    FirstTokenMs = _clock.Elapsed.TotalMilliseconds;
                }

                yield return update;
            }
        }

        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private readonly record struct Sample(int Tokens, double TimeToFirstTokenMs, double DecodeTokensPerSecond);
}
