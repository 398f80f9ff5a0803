using System.Runtime.CompilerServices;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace Infera;

/// <summary>Reaches the native <c>OgaModel*</c> inside the managed <see cref="Model"/>, which keeps it private.</summary>
internal static class ModelHandleAccessor
{
    /// <summary>Returns the model's native handle. The managed <see cref="Model"/> keeps owning it.</summary>
    public static IntPtr GetHandle(Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return ModelHandle(model);
    }

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_modelHandle")]
    private static extern ref IntPtr ModelHandle(Model model);
}
