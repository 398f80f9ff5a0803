using System.Runtime.InteropServices;

namespace Infera;

/// <summary>Owns an <c>OgaEngineEventBuffer*</c>; releasing it calls <c>OgaDestroyEngineEventBuffer</c>.</summary>
/// <remarks>Bound to one Engine and used only on its owner thread; event views borrowed from it are valid until the next run.</remarks>
internal sealed class EngineEventBufferHandle : SafeHandle
{
    /// <summary>Initializes a new instance of the <see cref="EngineEventBufferHandle"/> class; the marshaller sets the handle.</summary>
    public EngineEventBufferHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    /// <inheritdoc />
    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <inheritdoc />
    protected override bool ReleaseHandle()
    {
        NativeMethods.OgaDestroyEngineEventBuffer(handle);
        return true;
    }
}
