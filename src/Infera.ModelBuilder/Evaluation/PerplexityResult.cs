namespace Infera.ModelBuilder;

/// <summary>Represents the perplexity of a model on a text.</summary>
public sealed class PerplexityResult
{
    /// <summary>Gets the perplexity: exp of the mean negative log-likelihood per predicted token.</summary>
    public required double Perplexity { get; init; }

    /// <summary>Gets the number of predicted (scored) tokens: the text's tokens after the first.</summary>
    public required int Tokens { get; init; }

    /// <summary>Gets the mean negative log-likelihood per predicted token, in nats.</summary>
    public required double MeanNegativeLogLikelihood { get; init; }

    /// <summary>Gets whether the text was longer than the evaluated window and was cut.</summary>
    public required bool Truncated { get; init; }

    /// <summary>Gets how long the evaluation took.</summary>
    public required TimeSpan Elapsed { get; init; }
}
