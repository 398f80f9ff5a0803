namespace Infera;

/// <summary>What a <see cref="GeneratorBatchWorker"/> needs to know about the model and how many rows a batch holds.</summary>
/// <param name="Rows">The most requests one batch holds.</param>
/// <param name="PadTokenId">The model's pad token (<c>genai_config.json</c> <c>pad_token_id</c>), which GenAI right-pads shorter prompts with and masks.</param>
/// <param name="ContextLength">The tokens one row may hold: the padded prompt length plus the new tokens of a batch must fit.</param>
/// <param name="VocabularySize">The model's vocabulary size (top-k over the whole vocabulary when a sampled request sets none).</param>
/// <param name="EosTokenIds">The model's end-of-sequence tokens.</param>
internal sealed record GeneratorBatchSettings(int Rows, int PadTokenId, int ContextLength, int VocabularySize, IReadOnlySet<int> EosTokenIds);
