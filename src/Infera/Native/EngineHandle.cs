using System.Runtime.InteropServices;

namespace Infera;

/// <summary>Owns an <c>OgaEngine*</c>; releasing it calls <c>OgaDestroyEngine</c>.</summary>
/// <remarks>Destroy it on the Engine's owner thread, after every event buffer bound to it; destroying it closes the requests still bound to it.</remarks>
internal sealed class EngineHandle : SafeHandle
{
    /// <summary>Initializes a new instance of the <see cref="EngineHandle"/> class; the marshaller sets the handle.</summary>
    public EngineHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    /// <inheritdoc />
    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <inheritdoc />
    protected override bool ReleaseHandle()
    {
        NativeMethods.OgaDestroyEngine(handle);
        return true;
    }
}
