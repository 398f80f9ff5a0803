using Microsoft.ML.OnnxRuntimeGenAI;

namespace Infera.ModelBuilder;

/// <summary>Measures a model folder's perplexity on a text with ONNX Runtime GenAI, to compare precisions of one model.</summary>
/// <remarks>
/// The text is encoded with the model's tokenizer (with BOS when its configuration adds one) and scored in one window from the
/// first token. Needs the ONNX Runtime GenAI native library (a provider package such as Infera.Cpu). Thread-safe. Like Infera's
/// runner, it turns ONNX Runtime's telemetry off unless the process set <c>ORT_DISABLE_TELEMETRY</c> itself.
/// </remarks>
public static class PerplexityEvaluator
{
    /// <summary>Computes the perplexity of <paramref name="text"/> under the model in <paramref name="modelDirectory"/>.</summary>
    /// <param name="modelDirectory">An ONNX Runtime GenAI model folder.</param>
    /// <param name="text">The text to score.</param>
    /// <param name="maxTokens">The most tokens to score, or <see langword="null"/> for the model's context length.</param>
    /// <param name="progress">Receives the fraction done, from 0 to 1.</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns>The perplexity and the number of scored tokens.</returns>
    /// <exception cref="ModelLoadException">The model folder cannot be loaded.</exception>
    /// <exception cref="ArgumentException">The text has fewer than two tokens.</exception>
    public static Task<PerplexityResult> EvaluateAsync(string modelDirectory, string text, int? maxTokens = null, IProgress<double>? progress = null, CancellationToken cancellationToken = default) =>
        EvaluateAsync(modelDirectory, text, maxTokens, null, progress, cancellationToken);

    /// <summary>Scores a text under a model with a given number of threads per CPU operator.</summary>
    /// <param name="modelDirectory">The ONNX Runtime GenAI model folder.</param>
    /// <param name="text">The text to score.</param>
    /// <param name="maxTokens">The most tokens to score, or <see langword="null"/> for the model's context length.</param>
    /// <param name="intraOpThreads">The threads one CPU operator may use (ONNX Runtime's <c>intra_op_num_threads</c>), or <see langword="null"/> for the model folder's own setting.</param>
    /// <param name="progress">Receives the fraction done, from 0 to 1.</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns>The perplexity and the number of scored tokens.</returns>
    /// <exception cref="ModelLoadException">The model folder cannot be loaded.</exception>
    /// <exception cref="ArgumentException">The text has fewer than two tokens.</exception>
    public static Task<PerplexityResult> EvaluateAsync(string modelDirectory, string text, int? maxTokens, int? intraOpThreads, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        if (intraOpThreads is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(intraOpThreads), intraOpThreads, "At least one thread is needed.");
        }

        ArgumentNullException.ThrowIfNull(modelDirectory);
        ArgumentNullException.ThrowIfNull(text);
        if (maxTokens is < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(maxTokens), maxTokens, "At least two tokens are needed.");
        }

        return Task.Run(() => Evaluate(modelDirectory, text, maxTokens, intraOpThreads, progress, cancellationToken), cancellationToken);
    }

    private static PerplexityResult Evaluate(string modelDirectory, string text, int? maxTokens, int? intraOpThreads, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        if (!File.Exists(Path.Combine(modelDirectory, "genai_config.json")))
        {
            throw new ModelLoadException($"{modelDirectory} is not a model folder: genai_config.json is missing.") { ModelPath = modelDirectory };
        }

        Infera.Native.OnnxRuntimeTelemetrySwitch.TurnOffUnlessSet();
        Model model;
        try
        {
            using var config = new Config(modelDirectory);
            if (intraOpThreads is int threads)
            {
                config.Overlay("{\"model\":{\"decoder\":{\"session_options\":{\"intra_op_num_threads\":" + threads.ToString(System.Globalization.CultureInfo.InvariantCulture) + "}}}}");
            }

            model = new Model(config);
        }
        catch (OnnxRuntimeGenAIException e)
        {
            throw new ModelLoadException($"Cannot load the model in {modelDirectory}: {e.Message}", e) { ModelPath = modelDirectory };
        }

        using (model)
        {
            using var tokenizer = new Tokenizer(model);
            tokenizer.UpdateOptions(new Dictionary<string, string> { ["add_special_tokens"] = "true" });
            int[] all;
            using (var sequences = tokenizer.Encode(text))
            {
                all = sequences[0].ToArray();
            }

            int context = ContextLength(modelDirectory);
            int limit = Math.Min(maxTokens ?? context - 1, context - 1);
            bool truncated = all.Length > limit;
            var tokens = truncated ? all.AsSpan(0, limit).ToArray() : all;
            if (tokens.Length < 2)
            {
                throw new ArgumentException("The text must have at least two tokens to measure perplexity.", nameof(text));
            }

            double nll = ScoreWholePrompt(model, tokens, cancellationToken) ?? ScoreStepwise(model, tokens, progress, cancellationToken);
            progress?.Report(1.0);
            int scored = tokens.Length - 1;
            return new PerplexityResult
            {
                Perplexity = Math.Exp(nll / scored),
                Tokens = scored,
                MeanNegativeLogLikelihood = nll / scored,
                Truncated = truncated,
                Elapsed = started.Elapsed,
            };
        }
    }

    /// <summary>Scores from one prompt pass; null when the graph computes only the last position's logits.</summary>
    private static double? ScoreWholePrompt(Model model, int[] tokens, CancellationToken cancellationToken)
    {
        using var parameters = new GeneratorParams(model);
        parameters.SetSearchOption("max_length", tokens.Length + 1);
        using var generator = new Generator(model, parameters);
        generator.AppendTokens(tokens);
        cancellationToken.ThrowIfCancellationRequested();
        using var logits = generator.GetOutput("logits");
        var shape = logits.Shape();
        if (shape.Length != 3 || shape[1] != tokens.Length)
        {
            return null;
        }

        int vocab = (int)shape[2];
        var values = ToFloat(logits);
        double nll = 0;
        for (int p = 0; p < tokens.Length - 1; p++)
        {
            var row = values.AsSpan(p * vocab, vocab);

            // A graph that computes only the last position writes that position's logits to every position (Infera's
            // builder) or leaves the others zero: score step by step instead.
            if (p == 0 && tokens.Length > 2 && (IsZero(row) || row.SequenceEqual(values.AsSpan((tokens.Length - 1) * vocab, vocab))))
            {
                return null;
            }

            nll += NegativeLogLikelihood(row, tokens[p + 1]);
        }

        return nll;
    }

    private static double ScoreStepwise(Model model, int[] tokens, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        using var parameters = new GeneratorParams(model);
        parameters.SetSearchOption("max_length", tokens.Length + 1);
        using var generator = new Generator(model, parameters);
        double nll = 0;
        for (int p = 0; p < tokens.Length - 1; p++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            generator.AppendTokens([tokens[p]]);
            using var logits = generator.GetOutput("logits");
            var values = ToFloat(logits);
            int vocab = (int)logits.Shape()[^1];
            nll += NegativeLogLikelihood(values.AsSpan(values.Length - vocab, vocab), tokens[p + 1]);
            if ((p & 31) == 0)
            {
                progress?.Report((double)p / tokens.Length);
            }
        }

        return nll;
    }

    private static bool IsZero(ReadOnlySpan<float> row) => !row.ContainsAnyExcept(0f);

    private static double NegativeLogLikelihood(ReadOnlySpan<float> logits, int target)
    {
        double max = double.NegativeInfinity;
        foreach (float v in logits)
        {
            max = Math.Max(max, v);
        }

        double sum = 0;
        foreach (float v in logits)
        {
            sum += Math.Exp(v - max);
        }

        return -(logits[target] - max - Math.Log(sum));
    }

    private static float[] ToFloat(Tensor tensor) => tensor.Type() switch
    {
        ElementType.float32 => tensor.GetData<float>().ToArray(),
        ElementType.float16 => ConvertHalf(tensor.GetData<Half>()),
        var t => throw new InvalidOperationException($"Unexpected logits type {t}."),
    };

    private static float[] ConvertHalf(ReadOnlySpan<Half> values)
    {
        var result = new float[values.Length];
        System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(values, result);
        return result;
    }

    private static int ContextLength(string modelDirectory)
    {
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(modelDirectory, "genai_config.json")));
        var model = json.RootElement.GetProperty("model");
        return model.TryGetProperty("context_length", out var c) ? c.GetInt32() : 2048;
    }
}
