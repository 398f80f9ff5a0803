using System.Runtime.InteropServices;

namespace Infera;

/// <summary>Owns an <c>OgaTurnOptions*</c>; releasing it calls <c>OgaDestroyTurnOptions</c>.</summary>
/// <remarks>Options are snapshotted when a turn begins, so they may be released right after.</remarks>
internal sealed class TurnOptionsHandle : SafeHandle
{
    /// <summary>Initializes a new instance of the <see cref="TurnOptionsHandle"/> class; the marshaller sets the handle.</summary>
    public TurnOptionsHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    /// <inheritdoc />
    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <inheritdoc />
    protected override bool ReleaseHandle()
    {
        NativeMethods.OgaDestroyTurnOptions(handle);
        return true;
    }
}
