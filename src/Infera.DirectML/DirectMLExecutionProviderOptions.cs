namespace Infera;

/// <summary>Options for <see cref="DirectMLExecutionProvider"/>.</summary>
public sealed class DirectMLExecutionProviderOptions
{
    /// <summary>Gets or sets the index of the DirectX 12 adapter to run on. The default is 0.</summary>
    public int DeviceId { get; set; }
}
