namespace Infera.Server;

/// <summary>An <see cref="IModelCatalog"/> over a folder of model folders: <c>ROOT/NAME</c> is <c>NAME:latest</c>, <c>ROOT/NAME@TAG</c> is <c>NAME:TAG</c>.</summary>
/// <remarks>
/// <para>A model folder holds an ONNX Runtime GenAI model (<c>genai_config.json</c>), or a <c>Modelfile</c> whose <c>FROM</c> names another
/// model of the catalog or a folder: <see cref="CreateAsync"/> writes such a folder, so a derived model shares its base's weights.
/// <see cref="CopyAsync"/> writes one too (<c>FROM</c> the source). <see cref="DeleteAsync"/> removes the folder.</para>
/// <para>Pulling needs a source of models, which a folder is not: <see cref="PullAsync"/> throws <see cref="NotSupportedException"/>.</para>
/// </remarks>
public sealed class DirectoryModelCatalog : IModelCatalog
{
    private const string ModelfileName = "Modelfile";
    private readonly Lock _gate = new();

    /// <summary>Initializes a new instance of the <see cref="DirectoryModelCatalog"/> class.</summary>
    /// <param name="root">The folder holding the model folders; created when missing.</param>
    public DirectoryModelCatalog(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        Root = Path.GetFullPath(root);
    }

    /// <summary>Gets the folder holding the model folders.</summary>
    public string Root { get; }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ModelCatalogEntry>> ListAsync(CancellationToken cancellationToken = default)
    {
        var entries = new List<ModelCatalogEntry>();
        if (Directory.Exists(Root))
        {
            foreach (var folder in Directory.EnumerateDirectories(Root).Order(StringComparer.Ordinal))
            {
                if (TryRead(folder, depth: 0) is { } entry)
                {
                    entries.Add(entry);
                }
            }
        }

        return ValueTask.FromResult<IReadOnlyList<ModelCatalogEntry>>(entries);
    }

    /// <inheritdoc />
    public ValueTask<ModelCatalogEntry?> FindAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return ValueTask.FromResult(FolderOf(name) is { } folder && Directory.Exists(folder) ? TryRead(folder, depth: 0) : null);
    }

    /// <inheritdoc />
    public Task PullAsync(string name, IProgress<ModelPullProgress>? progress, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"This server's models are the folders under {Root}; pulling needs the model library. Put a model folder there, or create one from a Modelfile.");

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        lock (_gate)
        {
            if (FolderOf(name) is not { } folder || !Directory.Exists(folder))
            {
                return Task.FromResult(false);
            }

            Directory.Delete(folder, recursive: true);
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc />
    public async Task<bool> CopyAsync(string source, string destination, CancellationToken cancellationToken = default)
    {
        if (await FindAsync(source, cancellationToken).ConfigureAwait(false) is null)
        {
            return false;
        }

        Write(destination, new Modelfile { From = ModelName.Normalize(source) });
        return true;
    }

    /// <inheritdoc />
    public async Task CreateAsync(string name, string modelfile, IProgress<ModelPullProgress>? progress, CancellationToken cancellationToken = default)
    {
        var parsed = Modelfile.Parse(modelfile);
        progress?.Report(new ModelPullProgress("parsing modelfile"));
        if (await FindAsync(parsed.From, cancellationToken).ConfigureAwait(false) is null && !File.Exists(Path.Combine(parsed.From, "genai_config.json")))
        {
            throw new FormatException($"FROM {parsed.From}: no model of that name in the catalog and no model folder at that path.");
        }

        if (ModelName.SameModel(parsed.From, name))
        {
            throw new FormatException($"FROM {parsed.From}: a model cannot be created from itself.");
        }

        progress?.Report(new ModelPullProgress("writing manifest"));
        Write(name, parsed);
        progress?.Report(new ModelPullProgress("success"));
    }

    private void Write(string name, Modelfile modelfile)
    {
        var folder = FolderOf(name) ?? throw new NotSupportedException($"'{name}' cannot be a folder name here: use letters, digits, '.', '-' and '_' (and ':tag').");
        lock (_gate)
        {
            if (File.Exists(Path.Combine(folder, "genai_config.json")))
            {
                throw new NotSupportedException($"'{ModelName.Normalize(name)}' holds model weights; delete it before reusing its name.");
            }

            Directory.CreateDirectory(folder);
            var temporary = Path.Combine(folder, ModelfileName + ".tmp");
            File.WriteAllText(temporary, modelfile.ToString());
            File.Move(temporary, Path.Combine(folder, ModelfileName), overwrite: true);
        }
    }

    private string? FolderOf(string name)
    {
        var normalized = ModelName.Normalize(name);
        var colon = normalized.LastIndexOf(':');
        var model = normalized[..colon];
        var tag = normalized[(colon + 1)..];
        if (!IsSafe(model) || !IsSafe(tag))
        {
            return null;
        }

        return Path.Combine(Root, tag == ModelName.DefaultTag ? model : model + "@" + tag);
    }

    private static bool IsSafe(string part) =>
        part.Length is > 0 and <= 200 && part[0] != '.' && part.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_');

    private static string NameOf(string folder)
    {
        var leaf = Path.GetFileName(folder);
        var at = leaf.LastIndexOf('@');
        return at > 0 ? leaf[..at] + ":" + leaf[(at + 1)..] : leaf + ":" + ModelName.DefaultTag;
    }

    private ModelCatalogEntry? TryRead(string folder, int depth)
    {
        var name = NameOf(folder);
        if (File.Exists(Path.Combine(folder, "genai_config.json")))
        {
            return new ModelCatalogEntry { Name = name, ModelPath = folder };
        }

        var modelfilePath = Path.Combine(folder, ModelfileName);
        if (depth > 8 || !File.Exists(modelfilePath))
        {
            return null;
        }

        Modelfile modelfile;
        try
        {
            modelfile = Modelfile.Parse(File.ReadAllText(modelfilePath));
        }
        catch (Exception ex) when (ex is FormatException or IOException)
        {
            return null;
        }

        // FROM a folder, or FROM another model of the catalog whose settings this one extends.
        ModelCatalogEntry? parent = File.Exists(Path.Combine(modelfile.From, "genai_config.json"))
            ? new ModelCatalogEntry { Name = modelfile.From, ModelPath = Path.GetFullPath(modelfile.From) }
            : FolderOf(modelfile.From) is { } parentFolder && Directory.Exists(parentFolder) ? TryRead(parentFolder, depth + 1) : null;
        if (parent is null)
        {
            return null;
        }

        return new ModelCatalogEntry
        {
            Name = name,
            ModelPath = parent.ModelPath,
            System = modelfile.System ?? parent.System,
            Template = modelfile.Template ?? parent.Template,
            License = modelfile.License ?? parent.License,
            Parameters = [.. parent.Parameters.Where(p => !modelfile.Parameters.Any(q => q.Key == p.Key)), .. modelfile.Parameters],
            Precision = parent.Precision,
            Source = ModelName.Normalize(modelfile.From),
        };
    }
}
