namespace Infera.Models;

/// <summary>Represents the options of <see cref="ModelLibrary.CreateAsync"/>.</summary>
public sealed class ModelCreateOptions
{
    /// <summary>Gets or sets the folder that relative <c>FROM</c> paths are relative to (the Modelfile's folder). <see langword="null"/> means the current directory.</summary>
    public string? BaseDirectory { get; set; }

    /// <summary>Gets or sets whether an existing model of that name is replaced. The default is <see langword="false"/>: creating fails instead.</summary>
    public bool Overwrite { get; set; }
}
