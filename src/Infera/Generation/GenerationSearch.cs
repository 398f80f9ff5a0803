using Microsoft.ML.OnnxRuntimeGenAI;

namespace Infera;

/// <summary>
/// The search options a request sets on a GenAI generator, for every generator that runs requests (one per request, or
/// one per batch of requests with the same options), so that a request's tokens do not depend on which one runs it.
/// </summary>
internal static class GenerationSearch
{
    /// <summary>Sets the search <paramref name="options"/> imply on <paramref name="parameters"/> (not <c>max_length</c>).</summary>
    /// <param name="parameters">The generator's parameters.</param>
    /// <param name="options">The request's options.</param>
    /// <param name="vocabularySize">The model's vocabulary size, the <c>top_k</c> that means "no top-k".</param>
    public static void Apply(GeneratorParams parameters, GenerationOptions options, int vocabularySize)
    {
        if (options.IsGreedy)
        {
            parameters.SetSearchOption("do_sample", false);
            return;
        }

        if (options.Temperature is null && options.TopP is null && options.TopK is null && options.Seed is null && options.RepetitionPenalty is null)
        {
            // Nothing asked for: the model's own search defaults (genai_config.json "search") apply.
            return;
        }

        // Set every option the request implies: the model's genai_config.json defaults (such as top_k = 1) must not leak in.
        parameters.SetSearchOption("do_sample", true);
        parameters.SetSearchOption("temperature", options.Temperature ?? 1f);
        parameters.SetSearchOption("top_k", options.TopK ?? vocabularySize);
        parameters.SetSearchOption("top_p", options.TopP ?? 1f);
        parameters.SetSearchOption("repetition_penalty", options.RepetitionPenalty ?? 1f);
        if (options.Seed is long seed)
        {
            // GenAI takes a 32-bit seed: fold larger ones so that every seed is accepted and stays reproducible.
            parameters.SetSearchOption("random_seed", seed is >= int.MinValue and <= int.MaxValue ? seed : (int)(seed ^ (seed >> 32)));
        }
    }
}
