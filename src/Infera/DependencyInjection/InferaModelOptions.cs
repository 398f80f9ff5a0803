namespace Infera;

/// <summary>What <c>AddInferaChatClient</c> registers: a model folder, its runner options and its chat client options.</summary>
public sealed class InferaModelOptions
{
    /// <summary>Gets or sets the ONNX Runtime GenAI model folder.</summary>
    public string ModelPath { get; set; } = string.Empty;

    /// <summary>Gets the runner options (execution provider, threads, concurrency).</summary>
    public OnnxModelRunnerOptions Runner { get; } = new();

    /// <summary>Gets the chat client options.</summary>
    public InferaChatClientOptions ChatClient { get; } = new();
}
