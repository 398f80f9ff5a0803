namespace Infera;

/// <summary>A token the model could have produced at a step, with its log-probability.</summary>
/// <param name="TokenId">The token id.</param>
/// <param name="Text">The token's text.</param>
/// <param name="LogProbability">The natural log-probability of the token.</param>
public sealed record TokenCandidate(int TokenId, string Text, float LogProbability);
