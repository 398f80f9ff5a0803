using System.Runtime.InteropServices;

namespace Infera;

/// <summary>Owns an <c>OgaRequestOptions*</c>; releasing it calls <c>OgaDestroyRequestOptions</c>.</summary>
/// <remarks>Options are copied when a request is created, so they may be released right after.</remarks>
internal sealed class RequestOptionsHandle : SafeHandle
{
    /// <summary>Initializes a new instance of the <see cref="RequestOptionsHandle"/> class; the marshaller sets the handle.</summary>
    public RequestOptionsHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    /// <inheritdoc />
    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <inheritdoc />
    protected override bool ReleaseHandle()
    {
        NativeMethods.OgaDestroyRequestOptions(handle);
        return true;
    }
}
