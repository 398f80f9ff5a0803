namespace Infera;

/// <summary>What a batched runner advances its batches with.</summary>
internal enum BatchingKind
{
    /// <summary>
    /// A plain ONNX Runtime GenAI generator per batch (<see cref="GeneratorBatchWorker"/>): shorter prompts are right-padded,
    /// every row of a batch shares the generator's search options, and the batch runs until every row has finished.
    /// The default on the CPU: cheaper per step than the Engine and not limited to four rows.
    /// </summary>
    Generator,

    /// <summary>
    /// ONNX Runtime GenAI's native Engine (<see cref="EngineWorker"/>). GenAI 0.18's CPU Engine is static and holds at
    /// most four rows; a dynamic (paged) Engine is what continuous batching on an accelerator would use. Chosen with
    /// the environment variable <c>INFERA_BATCHING=engine</c>.
    /// </summary>
    Engine,
}
