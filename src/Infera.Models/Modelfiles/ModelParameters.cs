namespace Infera.Models;

/// <summary>Represents the generation defaults of a library model (a Modelfile's <c>PARAMETER</c> lines). <see langword="null"/> means the runtime's default.</summary>
public sealed class ModelParameters
{
    /// <summary>Gets or sets the sampling temperature (<c>temperature</c>); 0 is greedy.</summary>
    public float? Temperature { get; set; }

    /// <summary>Gets or sets the number of most likely tokens to sample from (<c>top_k</c>).</summary>
    public int? TopK { get; set; }

    /// <summary>Gets or sets the nucleus sampling mass (<c>top_p</c>).</summary>
    public float? TopP { get; set; }

    /// <summary>Gets or sets the minimum probability relative to the most likely token (<c>min_p</c>).</summary>
    public float? MinP { get; set; }

    /// <summary>Gets or sets the random seed (<c>seed</c>).</summary>
    public int? Seed { get; set; }

    /// <summary>Gets or sets the context length in tokens, prompt included (<c>num_ctx</c>).</summary>
    public int? ContextLength { get; set; }

    /// <summary>Gets or sets the most new tokens a reply may have (<c>num_predict</c>; the prompt is not counted).</summary>
    public int? MaxOutputTokens { get; set; }

    /// <summary>Gets or sets the repetition penalty (<c>repeat_penalty</c>; 1 is none).</summary>
    public float? RepeatPenalty { get; set; }

    /// <summary>Gets the stop sequences (<c>stop</c>, one per line).</summary>
    public IList<string> Stop { get; } = [];

    /// <summary>Gets a value indicating whether no parameter is set.</summary>
    public bool IsEmpty => Temperature is null && TopK is null && TopP is null && MinP is null && Seed is null && ContextLength is null && MaxOutputTokens is null && RepeatPenalty is null && Stop.Count == 0;

    /// <summary>Returns a copy whose unset values are taken from <paramref name="fallback"/>.</summary>
    /// <param name="fallback">The parameters underneath these (for example, those of the model a Modelfile starts <c>FROM</c>).</param>
    /// <returns>The merged parameters.</returns>
    public ModelParameters MergeOver(ModelParameters? fallback)
    {
        var merged = new ModelParameters
        {
            Temperature = Temperature ?? fallback?.Temperature,
            TopK = TopK ?? fallback?.TopK,
            TopP = TopP ?? fallback?.TopP,
            MinP = MinP ?? fallback?.MinP,
            Seed = Seed ?? fallback?.Seed,
            ContextLength = ContextLength ?? fallback?.ContextLength,
            MaxOutputTokens = MaxOutputTokens ?? fallback?.MaxOutputTokens,
            RepeatPenalty = RepeatPenalty ?? fallback?.RepeatPenalty,
        };
        foreach (var stop in Stop.Count > 0 ? Stop : fallback?.Stop ?? [])
        {
            merged.Stop.Add(stop);
        }

        return merged;
    }
}
