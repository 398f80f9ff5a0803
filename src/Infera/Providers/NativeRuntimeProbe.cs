using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace Infera;

/// <summary>Looks for native libraries the way the runtime's loader does, and records where it looked.</summary>
public static class NativeRuntimeProbe
{
    /// <summary>The file name of ONNX Runtime GenAI's native library on this platform.</summary>
    public static string GenAILibraryFileName => LibraryFileName("onnxruntime-genai");

    /// <summary>Gets the folders the loader searches for a package's native libraries: the app folder and its <c>runtimes/&lt;rid&gt;/native</c> folder.</summary>
    /// <returns>The folders, most specific first.</returns>
    public static IReadOnlyList<string> SearchFolders()
    {
        var baseDirectory = AppContext.BaseDirectory;
        return
        [
            Path.Combine(baseDirectory, "runtimes", RuntimeInformation.RuntimeIdentifier, "native"),
            Path.Combine(baseDirectory, "runtimes", PortableRuntimeIdentifier(), "native"),
            baseDirectory,
        ];
    }

    /// <summary>Returns the platform file name of a native library (<c>libname.so</c>, <c>name.dll</c>, <c>libname.dylib</c>).</summary>
    /// <param name="name">The library's base name.</param>
    /// <returns>The file name.</returns>
    public static string LibraryFileName(string name) =>
        OperatingSystem.IsWindows() ? $"{name}.dll" : OperatingSystem.IsMacOS() ? $"lib{name}.dylib" : $"lib{name}.so";

    /// <summary>Looks for a library file in the search folders.</summary>
    /// <param name="fileName">The library's file name.</param>
    /// <param name="probed">Receives every path that was checked.</param>
    /// <returns>The full path of the library, or <see langword="null"/> when it is in none of the folders.</returns>
    public static string? FindInSearchFolders(string fileName, List<string> probed)
    {
        ArgumentNullException.ThrowIfNull(probed);
        foreach (var folder in SearchFolders().Distinct())
        {
            var candidate = Path.Combine(folder, fileName);
            probed.Add(candidate);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Checks that ONNX Runtime GenAI's native library loads in this process.</summary>
    /// <param name="providerName">The provider name to report.</param>
    /// <param name="packageHint">The package that brings the library, named in the message when it is missing.</param>
    /// <returns>The availability.</returns>
    public static ExecutionProviderAvailability CheckGenAIRuntime(string providerName, string packageHint)
    {
        var probed = new List<string>();
        var file = FindInSearchFolders(GenAILibraryFileName, probed);
        probed.Add($"NativeLibrary.TryLoad(\"onnxruntime-genai\")");
        if (NativeLibrary.TryLoad("onnxruntime-genai", typeof(Model).Assembly, DllImportSearchPath.AssemblyDirectory | DllImportSearchPath.SafeDirectories, out _))
        {
            return new ExecutionProviderAvailability(providerName, true, probed, null);
        }

        var missing = file is null
            ? $"{GenAILibraryFileName} was not found; add the {packageHint} package (it carries ONNX Runtime GenAI's native runtime)"
            : $"{file} exists but could not be loaded (a dependency such as the ONNX Runtime library may be missing)";
        return new ExecutionProviderAvailability(providerName, false, probed, missing);
    }

    private static string PortableRuntimeIdentifier()
    {
        var os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        var arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        return $"{os}-{arch}";
    }

    internal static Assembly GenAIAssembly => typeof(Model).Assembly;
}
