namespace Infera.ModelBuilder;

/// <summary>
/// A SentencePiece-style BPE vocabulary: pieces (with "▁" for spaces), their scores (higher merges first), byte-fallback pieces
/// <c>&lt;0xNN&gt;</c> and the special tokens.
/// </summary>
internal sealed class SentencePieceVocabulary
{
    public const char SpaceSymbol = '\u2581';

    public SentencePieceVocabulary(IReadOnlyList<string> pieces, IReadOnlyList<float> scores, int unknownId, int bosId, int eosId, int? padId = null)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        ArgumentNullException.ThrowIfNull(scores);
        if (pieces.Count != scores.Count)
        {
            throw new ArgumentException("Pieces and scores differ in length.", nameof(scores));
        }

        Pieces = pieces;
        Scores = scores;
        UnknownId = unknownId;
        BosId = bosId;
        EosId = eosId;
        PadId = padId;
        Ids = new Dictionary<string, int>(pieces.Count, StringComparer.Ordinal);
        for (int i = 0; i < pieces.Count; i++)
        {
            Ids.TryAdd(pieces[i], i);
        }
    }

    public IReadOnlyList<string> Pieces { get; }

    public IReadOnlyList<float> Scores { get; }

    public Dictionary<string, int> Ids { get; }

    public int UnknownId { get; }

    public int BosId { get; }

    public int EosId { get; }

    public int? PadId { get; }

    public int Count => Pieces.Count;

    /// <summary>Gets further control or user-defined tokens (chat markers): special, never merged, matched whole.</summary>
    public IReadOnlySet<int> ControlIds { get; init; } = new HashSet<int>();

    public bool IsSpecial(int id) => id == UnknownId || id == BosId || id == EosId || id == PadId || ControlIds.Contains(id);

    public static bool IsBytePiece(string piece) =>
        piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>' && Uri.IsHexDigit(piece[3]) && Uri.IsHexDigit(piece[4]);

    /// <summary>
    /// Derives BPE merges from the scores: every split of a normal piece into two pieces of the vocabulary, ordered by the merged
    /// piece's score (highest first, vocabulary order among equals), then by the ids of the two halves. Applying them by rank
    /// reproduces SentencePiece's "merge the best-scoring pair" loop.
    /// </summary>
    public List<(string Left, string Right)> DeriveMerges()
    {
        var merges = new List<(string Left, string Right, float Score, int Order)>();
        int order = 0;
        for (int id = 0; id < Pieces.Count; id++)
        {
            string piece = Pieces[id];
            if (IsSpecial(id) || IsBytePiece(piece) || piece.Length < 2)
            {
                continue;
            }

            var local = new List<(string Left, string Right, int LeftId, int RightId)>();
            for (int split = 1; split < piece.Length; split++)
            {
                if (char.IsLowSurrogate(piece[split]))
                {
                    continue;
                }

                string left = piece[..split];
                string right = piece[split..];
                if (Ids.TryGetValue(left, out int l) && Ids.TryGetValue(right, out int r) && !IsSpecial(l) && !IsSpecial(r))
                {
                    local.Add((left, right, l, r));
                }
            }

            foreach (var m in local.OrderBy(m => m.LeftId).ThenBy(m => m.RightId))
            {
                merges.Add((m.Left, m.Right, Scores[id], order++));
            }
        }

        return merges.OrderByDescending(m => m.Score).ThenBy(m => m.Order).Select(m => (m.Left, m.Right)).ToList();
    }
}
