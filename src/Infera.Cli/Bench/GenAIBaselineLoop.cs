using System.Diagnostics;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace Infera.Cli.Bench;

/// <summary>
/// The peer of <c>infera bench generate --baseline</c>: the least a program can do with ONNX Runtime GenAI — the same
/// model folder loaded with GenAI's own settings (nothing overlaid), a greedy <see cref="Generator"/> loop on the calling
/// thread that also decodes each token's text.
/// </summary>
internal sealed class GenAIBaselineLoop : IDisposable
{
    private readonly Model _model;
    private readonly Tokenizer _tokenizer;

    public GenAIBaselineLoop(string modelPath)
    {
        _model = new Model(modelPath);
        _tokenizer = new Tokenizer(_model);
        _tokenizer.UpdateOptions(new Dictionary<string, string> { ["add_special_tokens"] = "true" });
    }

    /// <summary>Generates up to <paramref name="maxNewTokens"/> tokens greedily and times it like <see cref="GenerationRun"/> does.</summary>
    public BaselineRun Run(string prompt, int maxNewTokens)
    {
        var clock = Stopwatch.StartNew();
        using var sequences = _tokenizer.Encode(prompt);
        using var generatorParams = new GeneratorParams(_model);
        generatorParams.SetSearchOption("max_length", sequences[0].Length + maxNewTokens);
        generatorParams.SetSearchOption("do_sample", false);
        using var generator = new Generator(_model, generatorParams);
        using var stream = _tokenizer.CreateStream();
        generator.AppendTokens(sequences[0]);
        TimeSpan first = default, last = default;
        var gaps = new List<double>(maxNewTokens);
        var count = 0;
        var characters = 0;
        while (!generator.IsDone())
        {
            generator.GenerateNextToken();
            characters += stream.Decode(generator.GetNextTokens()[0]).Length;
            var now = clock.Elapsed;
            if (count++ == 0)
            {
                first = now;
            }
            else
            {
                gaps.Add((now - last).TotalMicroseconds);
            }

            last = now;
        }

        var decodeSeconds = (last - first).TotalSeconds;
        GC.KeepAlive(characters);
        return new BaselineRun(first.TotalMilliseconds, count > 1 && decodeSeconds > 0 ? (count - 1) / decodeSeconds : 0, Statistics.Median(gaps), count);
    }

    public void Dispose()
    {
        _tokenizer.Dispose();
        _model.Dispose();
    }
}

/// <summary>One timed run of the plain loop: the same measures as <see cref="GenerationRun"/>.</summary>
internal readonly record struct BaselineRun(double TimeToFirstTokenMs, double DecodeTokensPerSecond, double MedianTokenGapMicroseconds, int Tokens)
{
    public double SteadyDecodeTokensPerSecond => MedianTokenGapMicroseconds > 0 ? 1e6 / MedianTokenGapMicroseconds : 0;
}
