namespace Infera.ModelBuilder;

/// <summary>
/// A made-up SentencePiece-style vocabulary of any size: &lt;unk&gt;, &lt;s&gt;, &lt;/s&gt;, 256 byte tokens, printable ASCII characters,
/// common English words, then letter strings — each multi-character piece reachable by merges, so text always tokenizes.
/// </summary>
internal static class SyntheticVocabulary
{
    public const int MinimumSize = 3 + 256;

    private static readonly string[] Words =
    [
        "the", "a", "and", "to", "was", "he", "she", "it", "of", "in", "they", "said", "day", "time", "once", "upon", "there",
        "little", "big", "with", "her", "his", "play", "happy", "friend", "saw", "went", "very", "one", "for", "on", "you",
        "we", "is", "that", "had", "not", "but", "what", "so", "up", "all", "be", "have", "go", "can", "like", "do", "this",
        "random", "weights", "model", "infera", "hello", "world", "yes", "no", "good", "new", "from", "at", "by", "as",
    ];

    public static SentencePieceVocabulary Create(int size)
    {
        if (size < MinimumSize)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, $"A synthetic vocabulary needs at least {MinimumSize} entries.");
        }

        var pieces = new List<string>(size) { "<unk>", "<s>", "</s>" };
        for (int b = 0; b < 256; b++)
        {
            pieces.Add($"<0x{b:X2}>");
        }

        var seen = new HashSet<string>(pieces, StringComparer.Ordinal);
        void Add(string piece)
        {
            if (pieces.Count < size && seen.Add(piece))
            {
                pieces.Add(piece);
            }
        }

        Add(SentencePieceVocabulary.SpaceSymbol.ToString());
        for (char ch = '!'; ch <= '~'; ch++)
        {
            Add(ch.ToString());
        }

        foreach (string word in Words)
        {
            string whole = SentencePieceVocabulary.SpaceSymbol + word;
            for (int length = 2; length <= whole.Length; length++)
            {
                Add(whole[..length]);
            }
        }

        // Letter strings by length: every piece's prefix one letter shorter is already present, so merges reach it.
        var previous = new List<string> { string.Empty };
        while (pieces.Count < size)
        {
            var next = new List<string>();
            foreach (string stem in previous)
            {
                for (char ch = 'a'; ch <= 'z'; ch++)
                {
                    next.Add(stem + ch);
                }
            }

            foreach (string s in next)
            {
                Add(SentencePieceVocabulary.SpaceSymbol + s);
                Add(s);
            }

            previous = next;
        }

        var scores = Enumerable.Range(0, pieces.Count).Select(i => i < MinimumSize ? 0f : -(float)(i - MinimumSize)).ToArray();
        return new SentencePieceVocabulary(pieces, scores, unknownId: 0, bosId: 1, eosId: 2);
    }
}
