using LLama;
using LLama.Common;
using LLama.Native;

namespace Infera.ModelBuilder.Tests;

/// <summary>llama.cpp (through LLamaSharp) as the independent reference for GGUF files: its quantizer, tokenizer, logits and greedy decode.</summary>
internal sealed class LlamaCpp : IDisposable
{
    private static readonly Lazy<bool> Initialized = new(() =>
    {
        NativeLibraryConfig.All.WithLogCallback((level, message) => { });
        NativeApi.llama_empty_call();
        return true;
    });

    private static readonly Lock NativeGate = new();

    private readonly LLamaWeights _weights;
    private readonly LLamaContext _context;

    public LlamaCpp(string gguf, uint contextSize = 512)
    {
        _ = Initialized.Value;
        var parameters = new ModelParams(gguf)
        {
            ContextSize = contextSize,
            BatchSize = contextSize,
            UBatchSize = contextSize,
            Threads = 1,
            BatchThreads = 1,
            GpuLayerCount = 0,
        };
        _weights = LLamaWeights.LoadFromFile(parameters);
        _context = _weights.CreateContext(parameters);
    }

    /// <summary>Quantizes a GGUF with llama.cpp's own quantizer (its default mix for <paramref name="type"/>).</summary>
    public static void Quantize(string source, string destination, LLamaFtype type, bool pure = false)
    {
        _ = Initialized.Value;
        var parameters = LLamaModelQuantizeParams.Default();
        parameters.ftype = type;
        parameters.nthread = 1;
        parameters.pure = pure;
        lock (NativeGate)
        {
            if (NativeApi.llama_model_quantize(source, destination, ref parameters) != 0)
            {
                throw new InvalidOperationException($"llama.cpp could not quantize {source} to {type}.");
            }
        }
    }

    public int[] Tokenize(string text, bool addBos) => _context.Tokenize(text, addBos, special: true).Select(t => (int)t).ToArray();

    /// <summary>Runs <paramref name="tokens"/> as one batch from an empty cache and returns every position's logits.</summary>
    public float[][] Logits(IReadOnlyList<int> tokens)
    {
        _context.NativeHandle.MemoryClear(true);
        var batch = new LLamaBatch();
        for (int i = 0; i < tokens.Count; i++)
        {
            batch.Add(tokens[i], i, LLamaSeqId.Zero, true);
        }

        Decode(batch);
        return Enumerable.Range(0, tokens.Count).Select(i => _context.NativeHandle.GetLogitsIth(i).ToArray()).ToArray();
    }

    /// <summary>Greedy decoding: the prompt, then <paramref name="count"/> tokens (stopping at the end-of-sequence token).</summary>
    public List<int> Greedy(IReadOnlyList<int> prompt, int count, int eos)
    {
        _context.NativeHandle.MemoryClear(true);
        var batch = new LLamaBatch();
        for (int i = 0; i < prompt.Count; i++)
        {
            batch.Add(prompt[i], i, LLamaSeqId.Zero, i == prompt.Count - 1);
        }

        Decode(batch);
        var generated = new List<int>();
        int position = prompt.Count;
        int index = prompt.Count - 1;
        for (int step = 0; step < count; step++)
        {
            int next = ArgMax(_context.NativeHandle.GetLogitsIth(index));
            generated.Add(next);
            if (next == eos)
            {
                break;
            }

            batch.Clear();
            batch.Add(next, position++, LLamaSeqId.Zero, true);
            Decode(batch);
            index = 0;
        }

        return generated;
    }

    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
            {
                best = i;
            }
        }

        return best;
    }

    public void Dispose()
    {
        _context.Dispose();
        _weights.Dispose();
    }

    private void Decode(LLamaBatch batch)
    {
        var result = _context.Decode(batch);
        if (result != DecodeResult.Ok)
        {
            throw new InvalidOperationException($"llama.cpp decode failed: {result}.");
        }
    }
}
