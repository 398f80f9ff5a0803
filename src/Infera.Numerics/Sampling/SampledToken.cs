namespace Infera.Numerics;

/// <summary>The result of one <see cref="LogitsSampler.Sample(Span{float})"/> call.</summary>
/// <param name="TokenId">The chosen token id.</param>
/// <param name="LogProbability">
/// The chosen token's log-probability under the model's raw distribution (before bias, penalties, temperature and
/// filters), or <see cref="float.NaN"/> when neither <see cref="SamplingParameters.LogProbabilities"/> nor
/// <see cref="SamplingParameters.TopLogProbabilities"/> asked for it.
/// </param>
/// <param name="TopLogProbabilities">
/// The <see cref="SamplingParameters.TopLogProbabilities"/> most likely tokens of the raw distribution, most likely
/// first (equal values by lower token id), or <see langword="null"/> when none were asked for.
/// </param>
public readonly record struct SampledToken(int TokenId, float LogProbability, IReadOnlyList<TokenLogProbability>? TopLogProbabilities);
