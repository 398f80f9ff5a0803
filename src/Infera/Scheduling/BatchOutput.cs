namespace Infera;

/// <summary>What the Engine produced for one request in one step: a token, the end of the turn, or both.</summary>
/// <param name="TokenId">The generated token, or -1 when the event carries none (an end-of-sequence finish).</param>
/// <param name="FinishReason">The native <c>OgaFinishReason</c> when the turn ended; 0 otherwise.</param>
/// <param name="Step">The Engine step (one <c>OgaEngineRun</c>) that produced it.</param>
internal readonly record struct BatchOutput(int TokenId, uint FinishReason, long Step)
{
    public bool HasToken => TokenId >= 0;

    public bool IsFinished => FinishReason != NativeMethods.FinishReasonNone;
}
