using System.Runtime.CompilerServices;

namespace Infera.Numerics;

/// <summary>
/// Turns one step's logits into a token under a request's <see cref="SamplingParameters"/>: logit bias, repetition,
/// frequency and presence penalties, temperature, top-k, top-p and min-p, then a seeded draw (or the arg-max when
/// the temperature is 0). It also reports log-probabilities when asked.
/// </summary>
/// <remarks>
/// <para>
/// One instance serves one request: it remembers the prompt (<see cref="AddPromptTokens(ReadOnlySpan{int})"/>) and
/// the generated tokens (<see cref="Accept(int)"/>) for the penalties, and owns the request's <see cref="SeededRandom"/>
/// (seeded with <see cref="SamplingParameters.Seed"/>, stream 0). It is not thread-safe.
/// </para>
/// <para>
/// <see cref="Sample(Span{float})"/> reuses buffers allocated by the constructor and allocates nothing, except the
/// list of <see cref="SampledToken.TopLogProbabilities"/> when <see cref="SamplingParameters.TopLogProbabilities"/> is set.
/// </para>
/// <para>
/// Filters: top-k keeps the <c>k</c> largest logits (equal logits by lower token id). Top-p then keeps the shortest
/// prefix of those (or of the whole vocabulary when top-k is off), ranked the same way, whose probability at the
/// request's temperature reaches <c>p</c>; min-p then drops tokens whose probability is below <c>MinP</c> times the
/// largest. The draw picks the first kept token at which the running sum of kept probabilities exceeds
/// <c>u × kept mass</c>, <c>u</c> being the next <see cref="SeededRandom.NextDouble"/>; kept tokens are visited in
/// rank order when top-k is on and in token-id order otherwise. With top-p and no top-k the nucleus is not listed:
/// the draw runs over the tokens min-p keeps and is repeated with the next <c>u</c> while the drawn token lies
/// outside the nucleus (rejection sampling, which gives exactly the nucleus distribution); after 4 rejections the
/// nucleus is computed and drawn from as above. Without top-k the probabilities are <c>2^((logit - max) × log2 e / T)</c>
/// with a cheaper polynomial than <see cref="Softmax"/>'s (relative error below 2e-6 for every token above
/// 2^-30 of the most likely). For one seed and one sequence of logits the tokens are the same on every
/// machine, except when a draw lands within float rounding of a boundary between two tokens: the vectorized sums
/// are added in an order that depends on the processor's vector width.
/// </para>
/// </remarks>
public sealed class LogitsSampler
{
    private const int DrawChunkLength = 1024;

    /// <summary>Rejection draws tried for top-p over the vocabulary before the nucleus is computed exactly.</summary>
    private const int NucleusAttempts = 4;

    private readonly SamplingParameters _parameters;
    private readonly int _vocabularySize;
    private readonly SeededRandom _random;
    private readonly int[] _biasIds;
    private readonly float[] _biasValues;
    private readonly bool _repetition;
    private readonly bool _frequencyOrPresence;
    private readonly bool _modifiesLogits;
    private readonly bool _topK;

    private readonly bool[]? _seen;
    private int[] _seenIds = [];
    private int _seenCount;

    private readonly int[]? _generatedSlot;
    private int[] _generatedIds = [];
    private int[] _generatedCounts = [];
    private int _generatedDistinct;

    private readonly float[]? _weights;
    private readonly int[]? _candidates;
    private readonly float[]? _candidateWeights;
    private readonly float[]? _rawLogits;
    private readonly int[]? _topLogIndices;

    /// <summary>Initializes a new instance of the <see cref="LogitsSampler"/> class.</summary>
    /// <param name="parameters">The request's sampling settings; validated here.</param>
    /// <param name="vocabularySize">The number of logits per step.</param>
    /// <exception cref="ArgumentNullException"><paramref name="parameters"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting or <paramref name="vocabularySize"/> is out of range.</exception>
    public LogitsSampler(SamplingParameters parameters, int vocabularySize)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        parameters.Validate(vocabularySize);
        _parameters = parameters;
        _vocabularySize = vocabularySize;
        _random = new SeededRandom(parameters.Seed);

        var biasCount = parameters.LogitBias?.Count ?? 0;
        _biasIds = new int[biasCount];
        _biasValues = new float[biasCount];
        if (parameters.LogitBias is not null)
        {
            var i = 0;
            foreach (var (tokenId, bias) in parameters.LogitBias)
            {
                _biasIds[i] = tokenId;
                _biasValues[i] = bias;
                i++;
            }
        }

        _repetition = parameters.RepetitionPenalty != 1f;
        _frequencyOrPresence = parameters.FrequencyPenalty != 0f || parameters.PresencePenalty != 0f;
        _modifiesLogits = biasCount > 0 || _repetition || _frequencyOrPresence;
        if (_repetition)
        {
            _seen = new bool[vocabularySize];
            _seenIds = new int[16];
        }

        if (_frequencyOrPresence)
        {
            _generatedSlot = new int[vocabularySize];
            _generatedIds = new int[16];
            _generatedCounts = new int[16];
        }

        if (!parameters.IsGreedy)
        {
            _topK = parameters.TopK > 0 && parameters.TopK < vocabularySize;
            if (_topK)
            {
                _candidates = new int[parameters.TopK];
                _candidateWeights = new float[parameters.TopK];
            }
            else
            {
                _weights = new float[vocabularySize];
                if (parameters.TopP < 1f)
                {
                    _candidates = new int[vocabularySize];
                }
            }
        }

        if (parameters.LogProbabilities || parameters.TopLogProbabilities > 0)
        {
            if (_modifiesLogits)
            {
                _rawLogits = new float[vocabularySize];
            }

            _topLogIndices = new int[parameters.TopLogProbabilities];
        }
    }

    /// <summary>Gets the settings this sampler applies.</summary>
    public SamplingParameters Parameters => _parameters;

    /// <summary>Gets the number of logits per step.</summary>
    public int VocabularySize => _vocabularySize;

    /// <summary>Records prompt tokens; only the repetition penalty looks at them.</summary>
    /// <param name="tokenIds">The prompt's token ids.</param>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the vocabulary.</exception>
    public void AddPromptTokens(ReadOnlySpan<int> tokenIds)
    {
        foreach (var id in tokenIds)
        {
            CheckTokenId(id, nameof(tokenIds));
        }

        if (!_repetition)
        {
            return;
        }

        foreach (var id in tokenIds)
        {
            MarkSeen(id);
        }
    }

    /// <summary>Records a generated token, for the repetition, frequency and presence penalties of later steps.</summary>
    /// <param name="tokenId">The token the request emitted (usually the one <see cref="Sample(Span{float})"/> returned).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tokenId"/> is outside the vocabulary.</exception>
    public void Accept(int tokenId)
    {
        CheckTokenId(tokenId, nameof(tokenId));
        if (_repetition)
        {
            MarkSeen(tokenId);
        }

        if (_generatedSlot is not null)
        {
            var slot = _generatedSlot[tokenId];
            if (slot == 0)
            {
                if (_generatedDistinct == _generatedIds.Length)
                {
                    Array.Resize(ref _generatedIds, _generatedIds.Length * 2);
                    Array.Resize(ref _generatedCounts, _generatedCounts.Length * 2);
                }

                _generatedIds[_generatedDistinct] = tokenId;
                _generatedCounts[_generatedDistinct] = 1;
                _generatedDistinct++;
                _generatedSlot[tokenId] = _generatedDistinct;
            }
            else
            {
                _generatedCounts[slot - 1]++;
            }
        }
    }

    /// <summary>Chooses the next token from one step's logits.</summary>
    /// <param name="logits">The step's logits, <see cref="VocabularySize"/> long. They are scratch: bias and penalties are applied in place.</param>
    /// <returns>The chosen token, with log-probabilities when the settings ask for them.</returns>
    /// <exception cref="ArgumentException"><paramref name="logits"/> is not <see cref="VocabularySize"/> long.</exception>
    public SampledToken Sample(Span<float> logits)
    {
        if (logits.Length != _vocabularySize)
        {
            ThrowHelper.ThrowLengthMismatch(nameof(logits), _vocabularySize, logits.Length);
        }

        var wantLogProbabilities = _topLogIndices is not null;
        var logSumExp = float.NaN;
        TokenLogProbability[]? top = null;
        ReadOnlySpan<float> raw = logits;
        if (wantLogProbabilities)
        {
            logSumExp = LogSoftmax.LogSumExp(logits);
            if (_topLogIndices!.Length > 0)
            {
                var count = TopK.Select(logits, _topLogIndices.Length, _topLogIndices);
                top = new TokenLogProbability[count];
                for (var i = 0; i < count; i++)
                {
                    var id = _topLogIndices[i];
                    top[i] = new TokenLogProbability(id, logits[id] - logSumExp);
                }
            }

            if (_rawLogits is not null)
            {
                logits.CopyTo(_rawLogits);
                raw = _rawLogits;
            }
        }

        if (_modifiesLogits)
        {
            ApplyBiasAndPenalties(logits);
        }

        var token = _parameters.IsGreedy ? ArgMaxKernel.IndexOfMax(logits) : Draw(logits);
        var logProbability = wantLogProbabilities ? raw[token] - logSumExp : float.NaN;
        return new SampledToken(token, logProbability, top);
    }

    private void ApplyBiasAndPenalties(Span<float> logits)
    {
        Penalties.ApplyLogitBias(logits, _biasIds, _biasValues);
        if (_repetition)
        {
            Penalties.ApplyRepetition(logits, _seenIds.AsSpan(0, _seenCount), _parameters.RepetitionPenalty);
        }

        if (_frequencyOrPresence)
        {
            Penalties.ApplyFrequencyAndPresence(
                logits,
                _generatedIds.AsSpan(0, _generatedDistinct),
                _generatedCounts.AsSpan(0, _generatedDistinct),
                _parameters.FrequencyPenalty,
                _parameters.PresencePenalty);
        }
    }

    private int Draw(Span<float> logits) => _topK ? DrawTopK(logits) : DrawVocabulary(logits);

    private int DrawTopK(Span<float> logits)
    {
        var inverseTemperature = 1f / _parameters.Temperature;
        var topP = _parameters.TopP;
        var minP = _parameters.MinP;
        var candidates = _candidates.AsSpan(0, TopK.Select(logits, _parameters.TopK, _candidates));
        var best = logits[candidates[0]];
        if (!float.IsFinite(best))
        {
            return candidates[0];
        }

        var weights = _candidateWeights.AsSpan(0, candidates.Length);
        for (var i = 0; i < candidates.Length; i++)
        {
            weights[i] = logits[candidates[i]];
        }

        ScaledExpKernel.Compute(weights, best, inverseTemperature, weights);
        var kept = weights.Length;
        if (topP < 1f)
        {
            kept = TopP.Count(weights, topP);
        }

        if (minP > 0f)
        {
            kept = Math.Min(kept, MinP.Count(weights, minP));
        }

        return DrawRanked(candidates[..kept], weights[..kept]);
    }

    private int DrawVocabulary(Span<float> logits)
    {
        var inverseTemperature = 1f / _parameters.Temperature;
        var topP = _parameters.TopP;
        var minP = _parameters.MinP;

        // Only the largest value is needed: its token's weight is exp(0) = 1 exactly. NaN and infinite logits take
        // the arg-max, whose handling of them is specified.
        var max = MaxKernel.Max(logits);
        if (!float.IsFinite(max))
        {
            var maxIndex = ArgMaxKernel.IndexOfMax(logits);
            max = logits[maxIndex];
            if (!float.IsFinite(max))
            {
                return maxIndex;
            }
        }

        var all = _weights.AsSpan();
        var total = (float)SamplingWeightsKernel.Compute(logits, max, inverseTemperature, all);
        const float maxWeight = 1f;
        var minWeight = minP > 0f ? minP * maxWeight : 0f;
        if (topP < 1f)
        {
            var target = topP * total;
            var keptMass = minP > 0f ? SumAtLeastKernel.SumAtLeast(all, minWeight) : total;
            for (var attempt = 0; attempt < NucleusAttempts; attempt++)
            {
                // Rejection: a draw over every eligible token, kept when it lies in the nucleus, is a draw from the
                // nucleus; it needs no nucleus boundary, only the mass ranked above the drawn token.
                var drawn = DrawScan(all, minWeight, keptMass);
                if (MassRankedAbove(all, drawn) < target)
                {
                    return drawn;
                }
            }

            return DrawNucleusExactly(all, target, minWeight);
        }

        if (minP > 0f)
        {
            return DrawScan(all, minWeight, SumAtLeastKernel.SumAtLeast(all, minWeight));
        }

        return DrawScan(all, 0f, total);
    }

    /// <summary>Draws from the nucleus (among weights &gt;= <paramref name="minWeight"/>) once its boundary is known: the path after repeated rejections.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private int DrawNucleusExactly(Span<float> all, float target, float minWeight)
    {
        const float maxWeight = 1f;
        if (TopP.TrySelectFew(all, target, maxWeight, _candidates, out var count))
        {
            return DrawIndexed(_candidates.AsSpan(0, count), all, minWeight);
        }

        // A large nucleus is every weight above its boundary value: draw with that threshold instead of
        // listing it, unless an equal weight after the boundary token must be left out.
        var (boundaryValue, _, tiesAfter) = TopP.FindBoundary(all, target);
        if (!tiesAfter || minWeight > boundaryValue)
        {
            var threshold = Math.Max(boundaryValue, minWeight);
            return DrawScan(all, threshold, SumAtLeastKernel.SumAtLeast(all, threshold));
        }

        var nucleus = _candidates.AsSpan(0, TopP.SelectReaching(all, target, maxWeight, _candidates));
        return DrawIndexed(nucleus, all, minWeight);
    }

    /// <summary>The mass of the tokens ranked before <paramref name="index"/>: larger weights, and equal weights at lower ids.</summary>
    private static double MassRankedAbove(ReadOnlySpan<float> weights, int index)
    {
        var weight = weights[index];
        return (double)SumAtLeastKernel.SumAtLeast(weights[..index], weight)
            + SumAtLeastKernel.SumAtLeast(weights[(index + 1)..], MathF.BitIncrement(weight));
    }

    /// <summary>Draws from candidates whose weights are given in candidate order.</summary>
    private int DrawRanked(ReadOnlySpan<int> candidates, ReadOnlySpan<float> weights)
    {
        var mass = 0.0;
        foreach (var w in weights)
        {
            mass += w;
        }

        var target = _random.NextDouble() * mass;
        var cumulative = 0.0;
        for (var i = 0; i < candidates.Length; i++)
        {
            cumulative += weights[i];
            if (cumulative > target)
            {
                return candidates[i];
            }
        }

        return LastPositive(candidates, weights);
    }

    /// <summary>Draws from candidates (in token-id order) whose weights, looked up by token id, are &gt;= threshold.</summary>
    private int DrawIndexed(ReadOnlySpan<int> candidates, ReadOnlySpan<float> weightsById, float threshold)
    {
        var mass = 0.0;
        foreach (var id in candidates)
        {
            var w = weightsById[id];
            if (w >= threshold)
            {
                mass += w;
            }
        }

        var target = _random.NextDouble() * mass;
        var cumulative = 0.0;
        var last = candidates[0];
        foreach (var id in candidates)
        {
            var w = weightsById[id];
            if (w >= threshold && w > 0f)
            {
                last = id;
                cumulative += w;
                if (cumulative > target)
                {
                    return id;
                }
            }
        }

        return last;
    }

    /// <summary>Draws over the whole vocabulary in token-id order among weights &gt;= threshold, skipping whole chunks with vector sums.</summary>
    private int DrawScan(ReadOnlySpan<float> weights, float threshold, float mass)
    {
        var target = _random.NextDouble() * mass;
        var cumulative = 0.0;
        for (var start = 0; start < weights.Length; start += DrawChunkLength)
        {
            var chunk = weights.Slice(start, Math.Min(DrawChunkLength, weights.Length - start));
            var chunkMass = SumAtLeastKernel.SumAtLeast(chunk, threshold);
            if (cumulative + chunkMass <= target)
            {
                cumulative += chunkMass;
                continue;
            }

            for (var j = 0; j < chunk.Length; j++)
            {
                var w = chunk[j];
                if (w >= threshold)
                {
                    cumulative += w;
                    if (cumulative > target)
                    {
                        return start + j;
                    }
                }
            }
        }

        // Rounding left the target just out of reach: the last eligible token is the answer.
        for (var i = weights.Length - 1; i >= 0; i--)
        {
            if (weights[i] > 0f && weights[i] >= threshold)
            {
                return i;
            }
        }

        return ArgMaxKernel.IndexOfMax(weights);
    }

    private static int LastPositive(ReadOnlySpan<int> candidates, ReadOnlySpan<float> weights)
    {
        for (var i = candidates.Length - 1; i > 0; i--)
        {
            if (weights[i] > 0f)
            {
                return candidates[i];
            }
        }

        return candidates[0];
    }

    private void MarkSeen(int id)
    {
        if (_seen![id])
        {
            return;
        }

        _seen[id] = true;
        if (_seenCount == _seenIds.Length)
        {
            Array.Resize(ref _seenIds, _seenIds.Length * 2);
        }

        _seenIds[_seenCount++] = id;
    }

    private void CheckTokenId(int id, string parameterName)
    {
        if ((uint)id >= (uint)_vocabularySize)
        {
            throw new ArgumentOutOfRangeException(parameterName, id, $"Token id {id} is outside the vocabulary [0, {_vocabularySize}).");
        }
    }
}
