namespace Infera.ModelBuilder;

/// <summary>What the written graph looks like, for genai_config.json.</summary>
internal sealed record GraphInfo(int HeadSize, bool SharedKeyValueBuffer, bool HasPositionIds, bool Float16, bool LastPositionLogitsOnly, bool PromptBranches = false);
