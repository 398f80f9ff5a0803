namespace Infera;

/// <summary>Decodes a stream of token ids into text incrementally, handling characters that span several tokens.</summary>
/// <remarks>An instance is used by one sequence at a time and is not thread-safe.</remarks>
public interface ITokenStreamDecoder : IDisposable
{
    /// <summary>Adds a token and returns the text it completes.</summary>
    /// <param name="tokenId">The next token id.</param>
    /// <returns>The new text; empty when the token completes no character yet.</returns>
    string Decode(int tokenId);
}
