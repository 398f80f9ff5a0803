using System.Diagnostics;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Infera.Benchmarks.ModelBuilder;

/// <summary>llama.cpp through LLamaSharp: prompt processing and greedy decode on one context.</summary>
internal sealed class LlamaCppEngine : IDisposable
{
    private readonly LLamaWeights _weights;
    private readonly LLamaContext _context;
    private readonly LLamaBatch _batch = new();

    public LlamaCppEngine(string gguf, int threads, uint contextSize)
    {
        var parameters = new ModelParams(gguf)
        {
            ContextSize = contextSize,
            BatchSize = 512,
            UBatchSize = 512,
            Threads = threads,
            BatchThreads = threads,
            GpuLayerCount = 0,
        };
        _weights = LLamaWeights.LoadFromFile(parameters);
        _context = _weights.CreateContext(parameters);
    }

    /// <summary>Gets the bytes of the model's tensors (a tied embedding table is also the output matrix, read per token).</summary>
    public ulong SizeInBytes => _weights.SizeInBytes;

    /// <summary>Gets the vocabulary size.</summary>
    public int Vocabulary => _weights.Vocab.Count;

    /// <summary>Quantizes an F32 GGUF (llama.cpp's default mix for the type, or every matrix at it when <paramref name="pure"/>).</summary>
    public static void Quantize(string source, string destination, LLamaFtype type, bool pure, int threads)
    {
        NativeApi.llama_empty_call();
        var parameters = LLamaModelQuantizeParams.Default();
        parameters.ftype = type;
        parameters.nthread = threads;
        parameters.pure = pure;
        if (NativeApi.llama_model_quantize(source, destination, ref parameters) != 0)
        {
            throw new InvalidOperationException($"llama.cpp could not quantize {source}.");
        }
    }

    /// <summary>Processes <paramref name="prompt"/> from an empty cache in one batch (logits for the last position only); returns tokens/s.</summary>
    public double Prompt(int[] prompt)
    {
        _context.NativeHandle.MemoryClear(true);
        Fill(prompt, 0);
        var watch = Stopwatch.StartNew();
        Decode();
        _ = ArgMax(_batch.TokenCount - 1);
        return prompt.Length / watch.Elapsed.TotalSeconds;
    }

    /// <summary>Processes <paramref name="prompt"/>, then decodes <paramref name="tokens"/> tokens greedily; returns decode tokens/s.</summary>
    public double Decode(int[] prompt, int tokens, List<int>? generated = null)
    {
        _context.NativeHandle.MemoryClear(true);
        Fill(prompt, 0);
        Decode();
        int next = ArgMax(_batch.TokenCount - 1);
        generated?.Add(next);
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < tokens; i++)
        {
            _batch.Clear();
            _batch.Add(next, prompt.Length + i, LLamaSeqId.Zero, true);
            Decode();
            next = ArgMax(0);
            generated?.Add(next);
        }

        return tokens / watch.Elapsed.TotalSeconds;
    }

    /// <summary>Processes <paramref name="prompt"/> from an empty cache, then decodes <paramref name="tokens"/> more tokens greedily; returns the time to the first token and the decode tokens/s.</summary>
    public (double TtftMs, double DecodeTokensPerSecond) Generate(int[] prompt, int tokens)
    {
        var watch = Stopwatch.StartNew();
        _context.NativeHandle.MemoryClear(true);
        Fill(prompt, 0);
        Decode();
        int next = ArgMax(_batch.TokenCount - 1);
        double first = watch.Elapsed.TotalMilliseconds;
        for (int i = 0; i < tokens; i++)
        {
            _batch.Clear();
            _batch.Add(next, prompt.Length + i, LLamaSeqId.Zero, true);
            Decode();
            next = ArgMax(0);
        }

        double rest = watch.Elapsed.TotalMilliseconds - first;
        return (first, tokens > 0 ? tokens / (rest / 1000) : 0);
    }

    public void Dispose()
    {
        _context.Dispose();
        _weights.Dispose();
    }

    private void Fill(int[] tokens, int start)
    {
        _batch.Clear();
        for (int i = 0; i < tokens.Length; i++)
        {
            _batch.Add(tokens[i], start + i, LLamaSeqId.Zero, i == tokens.Length - 1);
        }
    }

    private void Decode()
    {
        var result = _context.Decode(_batch);
        if (result != DecodeResult.Ok)
        {
            throw new InvalidOperationException($"llama.cpp decode failed: {result}.");
        }
    }

    private int ArgMax(int index)
    {
        var logits = _context.NativeHandle.GetLogitsIth(index);
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
}
