namespace Infera.Models;

/// <summary>Represents the options of a <see cref="HuggingFaceHubClient"/>; <see cref="FromEnvironment"/> reads them the way <c>huggingface_hub</c> does.</summary>
public sealed class HuggingFaceHubOptions
{
    /// <summary>The public Hub.</summary>
    public static readonly Uri DefaultEndpoint = new("https://huggingface.co");

    /// <summary>Gets or sets the Hub endpoint (<c>HF_ENDPOINT</c>). The default is <c>https://huggingface.co</c>.</summary>
    public Uri Endpoint { get; set; } = DefaultEndpoint;

    /// <summary>Gets or sets the access token for private and gated repositories (<c>HF_TOKEN</c>), or <see langword="null"/>. It is sent only to the endpoint's host, never logged.</summary>
    public string? Token { get; set; }

    /// <summary>Gets or sets the cache folder in <c>huggingface_hub</c>'s layout (<c>HF_HUB_CACHE</c>, else <c>$HF_HOME/hub</c>, else <c>~/.cache/huggingface/hub</c>).</summary>
    public string CacheDirectory { get; set; } = Path.Combine(DefaultHome(), "hub");

    /// <summary>Gets or sets whether the network is off (<c>HF_HUB_OFFLINE</c>): files come from the cache only.</summary>
    public bool Offline { get; set; }

    /// <summary>Gets or sets how long a metadata request (repository listing, <c>HEAD</c>) may take (<c>HF_HUB_ETAG_TIMEOUT</c>). The default is 10 seconds.</summary>
    public TimeSpan MetadataTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how long a download may wait for the next bytes (<c>HF_HUB_DOWNLOAD_TIMEOUT</c>). The default is 10 seconds.</summary>
    public TimeSpan DownloadTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how many times a failed request (connection error, 408, 429, 5xx), or a transfer that stopped without new bytes, is retried. The default is 3.</summary>
    public int MaxRetryAttempts { get; set; } = 3;

    /// <summary>Gets or sets the first retry's delay; later ones back off exponentially, with jitter. The default is 1 second.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Creates options from the environment variables <c>huggingface_hub</c> reads: <c>HF_ENDPOINT</c>, <c>HF_TOKEN</c> (then <c>HUGGING_FACE_HUB_TOKEN</c>, then the file at <c>HF_TOKEN_PATH</c> or <c>$HF_HOME/token</c>), <c>HF_HOME</c>, <c>HF_HUB_CACHE</c> (or <c>HUGGINGFACE_HUB_CACHE</c>), <c>HF_HUB_OFFLINE</c> (or <c>TRANSFORMERS_OFFLINE</c>), <c>HF_HUB_ETAG_TIMEOUT</c>, <c>HF_HUB_DOWNLOAD_TIMEOUT</c>.</summary>
    /// <returns>The options.</returns>
    public static HuggingFaceHubOptions FromEnvironment()
    {
        var home = DefaultHome();
        var options = new HuggingFaceHubOptions
        {
            CacheDirectory = Variable("HF_HUB_CACHE") ?? Variable("HUGGINGFACE_HUB_CACHE") ?? Path.Combine(home, "hub"),
            Offline = IsTrue(Variable("HF_HUB_OFFLINE")) || IsTrue(Variable("TRANSFORMERS_OFFLINE")),
        };
        if (Variable("HF_ENDPOINT") is { } endpoint)
        {
            options.Endpoint = Uri.TryCreate(endpoint.TrimEnd('/'), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
                ? uri
                : throw new ModelLibraryException($"HF_ENDPOINT '{endpoint}' is not an http(s) URL.");
        }

        options.Token = Variable("HF_TOKEN") ?? Variable("HUGGING_FACE_HUB_TOKEN");
        if (options.Token is null)
        {
            var tokenPath = Variable("HF_TOKEN_PATH") ?? Path.Combine(home, "token");
            if (File.Exists(tokenPath))
            {
                var token = File.ReadAllText(tokenPath).Trim();
                options.Token = token.Length > 0 ? token : null;
            }
        }

        if (Seconds(Variable("HF_HUB_ETAG_TIMEOUT")) is { } etagTimeout)
        {
            options.MetadataTimeout = etagTimeout;
        }

        if (Seconds(Variable("HF_HUB_DOWNLOAD_TIMEOUT")) is { } downloadTimeout)
        {
            options.DownloadTimeout = downloadTimeout;
        }

        return options;
    }

    internal static string DefaultHome() =>
        Variable("HF_HOME")
        ?? Path.Combine(Variable("XDG_CACHE_HOME") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "huggingface");

    private static string? Variable(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;

    private static bool IsTrue(string? value) => value is not null && value.Trim().ToUpperInvariant() is "1" or "ON" or "YES" or "TRUE";

    private static TimeSpan? Seconds(string? value) =>
        double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds > 0 ? TimeSpan.FromSeconds(seconds) : null;
}
