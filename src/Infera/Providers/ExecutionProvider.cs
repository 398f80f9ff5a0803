namespace Infera;

/// <summary>The hardware an ONNX Runtime GenAI model runs on: an execution provider and its options.</summary>
/// <remarks>
/// Provider packages (<c>Infera.Cpu</c>, <c>Infera.Cuda</c>, <c>Infera.DirectML</c>, <c>Infera.CoreML</c>) derive from
/// this class. A provider checks, before a model loads, that its native runtime and device are present, and says
/// what it probed and what is missing when they are not.
/// </remarks>
public abstract class ExecutionProvider
{
    /// <summary>Gets the provider's name as Infera spells it: <c>cpu</c>, <c>cuda</c>, <c>directml</c> or <c>coreml</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Checks whether the provider can run here.</summary>
    /// <returns>What was probed and, when the provider cannot run, what is missing.</returns>
    public abstract ExecutionProviderAvailability GetAvailability();

    /// <summary>Writes the provider's settings into a model's runtime configuration.</summary>
    /// <param name="configuration">The configuration of the model being loaded.</param>
    protected internal abstract void Configure(ExecutionProviderConfiguration configuration);

    /// <inheritdoc />
    public override string ToString() => Name;
}
