namespace Infera;

/// <summary>Whether an execution provider can run here, and if not, why not.</summary>
/// <param name="Name">The provider's name (for example <c>cpu</c>, <c>cuda</c>, <c>directml</c>, <c>coreml</c>).</param>
/// <param name="IsAvailable">Whether the provider can run here.</param>
/// <param name="Probed">What was checked: native libraries, paths, devices.</param>
/// <param name="Missing">What is missing, or <see langword="null"/> when the provider is available.</param>
public sealed record ExecutionProviderAvailability(string Name, bool IsAvailable, IReadOnlyList<string> Probed, string? Missing)
{
    /// <summary>Describes the availability in one sentence suitable for an error message.</summary>
    /// <returns>The description.</returns>
    public string Describe() => IsAvailable
        ? $"Execution provider '{Name}' is available."
        : $"Execution provider '{Name}' is not available: {Missing}. Probed: {string.Join("; ", Probed)}.";
}
