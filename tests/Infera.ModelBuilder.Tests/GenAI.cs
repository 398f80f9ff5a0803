using Microsoft.ML.OnnxRuntimeGenAI;

namespace Infera.ModelBuilder.Tests;

/// <summary>Runs converted models through ONNX Runtime GenAI directly.</summary>
internal static class GenAI
{
    public static int[] Encode(string modelDirectory, string text, bool addSpecialTokens = true)
    {
        using var model = new Model(modelDirectory);
        using var tokenizer = new Tokenizer(model);
        if (addSpecialTokens)
        {
            tokenizer.UpdateOptions(new Dictionary<string, string> { ["add_special_tokens"] = "true" });
        }

        using var sequences = tokenizer.Encode(text);
        return sequences[0].ToArray();
    }

    /// <summary>Greedy generation; returns all tokens (prompt included) and their decoded text.</summary>
    public static (int[] Tokens, string Text) GenerateGreedy(string modelDirectory, string prompt, int maxLength)
    {
        using var model = new Model(modelDirectory);
        using var tokenizer = new Tokenizer(model);
        tokenizer.UpdateOptions(new Dictionary<string, string> { ["add_special_tokens"] = "true" });
        using var sequences = tokenizer.Encode(prompt);
        using var parameters = new GeneratorParams(model);
        parameters.SetSearchOption("max_length", maxLength);
        parameters.SetSearchOption("do_sample", false);
        using var generator = new Generator(model, parameters);
        generator.AppendTokens(sequences[0]);
        while (!generator.IsDone())
        {
            generator.GenerateNextToken();
        }

        var tokens = generator.GetSequence(0).ToArray();
        return (tokens, tokenizer.Decode(tokens));
    }

    /// <summary>Feeds <paramref name="tokens"/> one at a time and returns each step's logits [tokens, vocab] as float32.</summary>
    public static float[][] StepLogits(string modelDirectory, IReadOnlyList<int> tokens)
    {
        using var model = new Model(modelDirectory);
        using var parameters = new GeneratorParams(model);
        parameters.SetSearchOption("max_length", tokens.Count + 1);
        using var generator = new Generator(model, parameters);
        var result = new float[tokens.Count][];
        for (int i = 0; i < tokens.Count; i++)
        {
            generator.AppendTokens([tokens[i]]);
            result[i] = LastLogits(generator);
        }

        return result;
    }

    /// <summary>Appends the whole prompt at once and returns the logits output [positions, vocab].</summary>
    public static float[][] PromptLogits(string modelDirectory, IReadOnlyList<int> tokens)
    {
        using var model = new Model(modelDirectory);
        using var parameters = new GeneratorParams(model);
        parameters.SetSearchOption("max_length", tokens.Count + 1);
        using var generator = new Generator(model, parameters);
        generator.AppendTokens(tokens.ToArray());
        using var logits = generator.GetOutput("logits");
        var shape = logits.Shape();
        int positions = (int)shape[1], vocab = (int)shape[2];
        var flat = ToFloat(logits);
        return Enumerable.Range(0, positions).Select(p => flat.AsSpan(p * vocab, vocab).ToArray()).ToArray();
    }

    private static float[] LastLogits(Generator generator)
    {
        using var logits = generator.GetOutput("logits");
        var shape = logits.Shape();
        int vocab = (int)shape[2];
        var flat = ToFloat(logits);
        return flat.AsSpan(flat.Length - vocab, vocab).ToArray();
    }

    private static float[] ToFloat(Tensor tensor) => tensor.Type() switch
    {
        ElementType.float32 => tensor.GetData<float>().ToArray(),
        ElementType.float16 => tensor.GetData<Half>().ToArray().Select(h => (float)h).ToArray(),
        var t => throw new InvalidOperationException($"Unexpected logits type {t}."),
    };
}
