using System.Runtime.InteropServices;

namespace Infera;

/// <summary>Owns an <c>OgaRequest*</c>; releasing it calls <c>OgaDestroyRequest</c>.</summary>
/// <remarks>The header allows releasing the final handle from any thread: the Engine reclaims an unclosed request at its next owner-thread boundary.</remarks>
internal sealed class RequestHandle : SafeHandle
{
    /// <summary>Initializes a new instance of the <see cref="RequestHandle"/> class; the marshaller sets the handle.</summary>
    public RequestHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    /// <inheritdoc />
    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <inheritdoc />
    protected override bool ReleaseHandle()
    {
        NativeMethods.OgaDestroyRequest(handle);
        return true;
    }
}
