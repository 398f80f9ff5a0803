namespace Infera.ModelBuilder;

/// <summary>
/// The small default model: seeded random weights (a tiny Llama with grouped-query attention), created once into the user's
/// cache so that <c>infera generate</c> works on a machine with no model and no network. Its text is meaningless.
/// </summary>
public static class DefaultModel
{
    /// <summary>The model identifier, written into the folder's <c>infera_model.json</c>.</summary>
    public const string ModelId = "infera-default-random";

    /// <summary>The recipe version: a change to the default model's shape or seed changes it, so caches never mix recipes.</summary>
    public const string Version = "v1";

    /// <summary>Gets the name of the default model's folder inside the cache folder.</summary>
    public static string FolderName => "default-" + Version;

    /// <summary>Returns the default model's folder, creating it first if needed.</summary>
    /// <param name="cacheDirectory">
    /// The folder that holds Infera's models; <see langword="null"/> means <c>$XDG_CACHE_HOME/infera/models</c>, else
    /// <c>~/.cache/infera/models</c> (on Windows, <c>%LOCALAPPDATA%\infera\models</c>).
    /// </param>
    /// <param name="progress">Receives the fraction done while the model is created, from 0 to 1.</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns>The full path of the model folder.</returns>
    /// <remarks>Safe to call from several processes at once: the folder is written atomically and the first complete one wins.</remarks>
    /// <exception cref="ModelConversionException">The cache folder cannot be written.</exception>
    public static async Task<string> EnsureCreatedAsync(string? cacheDirectory = null, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        string root = cacheDirectory ?? CacheDirectory;
        string folder = Path.GetFullPath(Path.Combine(root, FolderName));
        if (IsComplete(folder))
        {
            progress?.Report(1.0);
            return folder;
        }

        try
        {
            await SyntheticModel.CreateAsync(Options, folder, new ConversionOptions { Overwrite = true }, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (ModelConversionException) when (IsComplete(folder))
        {
            // Another process created it at the same time.
        }

        return folder;
    }

    /// <summary>Gets the shape and seed of the default model.</summary>
    internal static SyntheticModelOptions Options => new()
    {
        Architecture = ModelArchitecture.Llama,
        HiddenSize = 64,
        LayerCount = 2,
        HeadCount = 4,
        KeyValueHeadCount = 2,
        IntermediateSize = 172,
        VocabularySize = 512,
        ContextLength = 1024,
        Seed = 20240611,
        ModelId = ModelId,
    };

    private static bool IsComplete(string folder) =>
        File.Exists(Path.Combine(folder, "genai_config.json")) && File.Exists(Path.Combine(folder, "model.onnx")) &&
        File.Exists(Path.Combine(folder, "tokenizer.json")) && File.Exists(Path.Combine(folder, "infera_model.json"));

    /// <summary>
    /// Gets the folder that holds Infera's models when no other is given: <c>$XDG_CACHE_HOME/infera/models</c>, else
    /// <c>~/.cache/infera/models</c> (on Windows, <c>%LOCALAPPDATA%\infera\models</c>).
    /// </summary>
    public static string CacheDirectory => DefaultCacheDirectory();

    private static string DefaultCacheDirectory()
    {
        if (OperatingSystem.IsWindows())
        {
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "infera", "models");
        }

        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string cache = !string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg)
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(cache, "infera", "models");
    }
}
