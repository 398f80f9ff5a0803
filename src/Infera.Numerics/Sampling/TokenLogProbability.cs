namespace Infera.Numerics;

/// <summary>A token id with its log-probability under the model's distribution.</summary>
/// <param name="TokenId">The token id.</param>
/// <param name="LogProbability">The natural logarithm of the token's probability (&lt;= 0).</param>
public readonly record struct TokenLogProbability(int TokenId, float LogProbability);
