namespace Infera;

/// <summary>The log-probability of a generated token and of its most likely alternatives.</summary>
/// <remarks>Log-probabilities are natural logarithms of the model's distribution over the vocabulary at that step, before temperature, penalties and truncation are applied.</remarks>
/// <param name="LogProbability">The natural log-probability of the generated token.</param>
/// <param name="TopAlternatives">The most likely tokens at that step with their log-probabilities, most likely first; empty when none were asked for.</param>
public sealed record TokenLogProbabilities(float LogProbability, IReadOnlyList<TokenCandidate> TopAlternatives);
