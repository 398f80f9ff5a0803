using System.Diagnostics.CodeAnalysis;

namespace Infera;

/// <summary>Finds execution providers by name, so that configuration can choose the hardware.</summary>
/// <remarks>
/// Each provider lives in its own package. <see cref="Create(string)"/> loads the provider's type from its package
/// when the app references that package, and otherwise throws an <see cref="ExecutionProviderUnavailableException"/>
/// that names the package to add.
/// </remarks>
public static class ExecutionProviders
{
    private static readonly (string Name, string Package, string TypeName)[] Known =
    [
        ("cpu", "Infera.Cpu", "Infera.CpuExecutionProvider, Infera.Cpu"),
        ("cuda", "Infera.Cuda", "Infera.CudaExecutionProvider, Infera.Cuda"),
        ("directml", "Infera.DirectML", "Infera.DirectMLExecutionProvider, Infera.DirectML"),
        ("coreml", "Infera.CoreML", "Infera.CoreMLExecutionProvider, Infera.CoreML"),
    ];

    /// <summary>Gets the names of the providers Infera knows: <c>cpu</c>, <c>cuda</c>, <c>directml</c>, <c>coreml</c>.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Known.Select(k => k.Name)];

    /// <summary>Creates a provider with its default options from its name.</summary>
    /// <param name="name">The provider's name, case-insensitive.</param>
    /// <returns>The provider.</returns>
    /// <exception cref="ArgumentException">The name is not a known provider.</exception>
    /// <exception cref="ExecutionProviderUnavailableException">The provider's package is not referenced by the app.</exception>
    [UnconditionalSuppressMessage("Trimming", "IL2057", Justification = "Provider types are preserved by their own packages' DynamicDependency roots.")]
    [UnconditionalSuppressMessage("Trimming", "IL2072", Justification = "Provider types have public parameterless constructors.")]
    public static ExecutionProvider Create(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var entry = Find(name);
        var type = Type.GetType(entry.TypeName, throwOnError: false);
        if (type is null)
        {
            throw new ExecutionProviderUnavailableException(new ExecutionProviderAvailability(
                entry.Name, false, [$"type {entry.TypeName}"], $"the {entry.Package} package is not referenced by this app"));
        }

        return (ExecutionProvider)Activator.CreateInstance(type)!;
    }

    /// <summary>Reports whether a provider can run here, without throwing.</summary>
    /// <param name="name">The provider's name, case-insensitive.</param>
    /// <returns>The availability report.</returns>
    public static ExecutionProviderAvailability GetAvailability(string name)
    {
        try
        {
            return Create(name).GetAvailability();
        }
        catch (ExecutionProviderUnavailableException ex) when (ex.Availability is not null)
        {
            return ex.Availability;
        }
    }

    private static (string Name, string Package, string TypeName) Find(string name)
    {
        foreach (var entry in Known)
        {
            if (string.Equals(entry.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return entry;
            }
        }

        throw new ArgumentException($"Unknown execution provider '{name}'. Known providers: {string.Join(", ", Known.Select(k => k.Name))}.", nameof(name));
    }
}
