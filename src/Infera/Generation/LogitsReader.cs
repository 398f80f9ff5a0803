using Microsoft.ML.OnnxRuntimeGenAI;

namespace Infera;

/// <summary>Copies the logits of the last position from a generator into a float buffer, converting from float16 when the model emits it.</summary>
internal static class LogitsReader
{
    public static void ReadLast(Generator generator, Span<float> destination)
    {
        using var tensor = generator.GetOutput("logits");
        var shape = tensor.Shape();
        var vocabulary = (int)shape[^1];
        if (vocabulary != destination.Length)
        {
            throw new InferaException($"The model's logits have {vocabulary} entries per position, but its configuration says the vocabulary has {destination.Length} tokens.");
        }

        var elements = (int)tensor.NumElements();
        switch (tensor.Type())
        {
            case ElementType.float32:
                tensor.GetData<float>()[(elements - vocabulary)..].CopyTo(destination);
                break;
            case ElementType.float16:
                var halves = tensor.GetData<Half>()[(elements - vocabulary)..];
                for (var i = 0; i < halves.Length; i++)
                {
                    destination[i] = (float)halves[i];
                }

                break;
            default:
                throw new InferaException($"The model's logits have element type {tensor.Type()}; Infera's sampler reads float32 and float16.");
        }
    }
}
