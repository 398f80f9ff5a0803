namespace Infera.Models;

/// <summary>Represents the options of <see cref="ModelLibrary.ResolveAsync"/>.</summary>
public sealed class ModelResolveOptions
{
    /// <summary>Gets or sets whether a Hugging Face id (<c>org/name</c>) that is not in the library is pulled. The default is <see langword="false"/>: resolution never touches the network.</summary>
    public bool AllowPull { get; set; }

    /// <summary>Gets or sets the options of that pull, or <see langword="null"/> for the defaults.</summary>
    public ModelPullOptions? Pull { get; set; }
}
