using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace Infera.Models;

/// <summary>Downloads repository files from the Hugging Face Hub into <c>huggingface_hub</c>'s cache, speaking the Hub's protocol as that library does.</summary>
/// <remarks>
/// <para>Listing: <c>GET /api/models/{repo}/revision/{revision}?blobs=true</c>. Each file: <c>HEAD /{repo}/resolve/{commit}/{path}</c>
/// without following absolute redirects (the CDN), taking the etag from <c>X-Linked-Etag</c>/<c>ETag</c> and the size from
/// <c>X-Linked-Size</c>/<c>Content-Length</c>, then <c>GET</c> from the redirect's <c>Location</c>.</para>
/// <para>A transfer writes <c>blobs/{etag}.incomplete</c> while holding <c>.locks/{repo}/{etag}.lock</c>; an interrupted one resumes
/// with <c>Range</c> (a 200 answer to a range restarts from byte 0). The result is checked against the size and the etag (SHA-256
/// for LFS files, the git blob SHA-1 otherwise) before it becomes <c>blobs/{etag}</c>; a mismatch deletes it. Snapshot entries are
/// relative symbolic links to the blobs and <c>refs/{revision}</c> holds the commit. Failed requests (connection errors, 408, 429, 5xx)
/// are retried with exponential backoff (Microsoft.Extensions.Http.Resilience); Hub errors (<c>X-Error-Code</c>) become
/// <see cref="HuggingFaceHubException"/>s that say what to do.</para>
/// <para>Instances are thread-safe.</para>
/// </remarks>
public sealed class HuggingFaceHubClient : IDisposable
{
    private readonly HttpClient _http;

    /// <summary>Initializes a new instance of the <see cref="HuggingFaceHubClient"/> class.</summary>
    /// <param name="options">The options; <see langword="null"/> reads them from the environment.</param>
    public HuggingFaceHubClient(HuggingFaceHubOptions? options = null)
    {
        Options = options ?? HuggingFaceHubOptions.FromEnvironment();
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(Options.MaxRetryAttempts, 1),
                Delay = Options.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldRetryAfterHeader = true,
            })
            .Build();
        var sockets = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = Options.MetadataTimeout,
        };
        _http = new HttpClient(new ResilienceHandler(pipeline) { InnerHandler = sockets }) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("infera", typeof(HuggingFaceHubClient).Assembly.GetName().Version?.ToString(3) ?? "0"));
    }

    /// <summary>Gets the options.</summary>
    public HuggingFaceHubOptions Options { get; }

    internal Func<string, long>? FreeSpaceProbe { get; set; }

    /// <summary>Returns a repository's folder in the cache (<c>models--org--name</c>).</summary>
    /// <param name="repoId">The repository id.</param>
    /// <returns>The folder path; it may not exist.</returns>
    public string GetRepositoryCacheDirectory(string repoId) => HuggingFaceCache.RepositoryDirectory(Options.CacheDirectory, ValidateRepoId(repoId));

    /// <summary>Lists a repository's files at a revision; offline (<see cref="HuggingFaceHubOptions.Offline"/>), lists the cached snapshot.</summary>
    /// <param name="repoId">The repository id (<c>org/name</c>).</param>
    /// <param name="revision">A branch, tag or commit; <see langword="null"/> means <c>main</c>.</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns>The repository at the commit the revision points to.</returns>
    /// <exception cref="HuggingFaceHubException">The repository or revision does not exist, is gated or private without a valid <c>HF_TOKEN</c>, or the Hub cannot be reached.</exception>
    public async Task<HuggingFaceRepository> GetRepositoryAsync(string repoId, string? revision = null, CancellationToken cancellationToken = default)
    {
        ValidateRepoId(repoId);
        revision = string.IsNullOrWhiteSpace(revision) ? "main" : revision;
        if (Options.Offline)
        {
            return GetCachedRepository(repoId, revision);
        }

        var url = new Uri(Options.Endpoint, $"api/models/{repoId}/revision/{Uri.EscapeDataString(revision)}?blobs=true");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Options.MetadataTimeout * 3);
        using var response = await SendAsync(HttpMethod.Get, url, repoId, revision, null, timeout.Token, cancellationToken).ConfigureAwait(false);
        await ThrowForStatusAsync(response, repoId, revision, null).ConfigureAwait(false);
        using var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false), default, timeout.Token).ConfigureAwait(false);
        var root = document.RootElement;
        var commit = root.TryGetProperty("sha", out var sha) ? sha.GetString() : null;
        if (commit is null || !IsCommit(commit))
        {
            throw new HuggingFaceHubException($"The Hub's answer for '{repoId}' at '{revision}' has no commit ('sha').");
        }

        var files = new List<HuggingFaceRepositoryFile>();
        if (root.TryGetProperty("siblings", out var siblings) && siblings.ValueKind == JsonValueKind.Array)
        {
            foreach (var sibling in siblings.EnumerateArray())
            {
                if (sibling.TryGetProperty("rfilename", out var name) && name.GetString() is { Length: > 0 } path)
                {
                    string? sha256 = null;
                    long? size = sibling.TryGetProperty("size", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt64() : null;
                    if (sibling.TryGetProperty("lfs", out var lfs) && lfs.ValueKind == JsonValueKind.Object)
                    {
                        sha256 = lfs.TryGetProperty("sha256", out var h) ? h.GetString()?.ToLowerInvariant() : null;
                        size ??= lfs.TryGetProperty("size", out var ls) && ls.ValueKind == JsonValueKind.Number ? ls.GetInt64() : null;
                    }

                    files.Add(new HuggingFaceRepositoryFile
                    {
                        Path = path,
                        Size = size,
                        BlobId = sibling.TryGetProperty("blobId", out var blob) ? blob.GetString() : null,
                        Sha256 = sha256,
                    });
                }
            }
        }

        HuggingFaceCache.WriteRef(Options.CacheDirectory, repoId, revision, commit);
        return new HuggingFaceRepository { Id = repoId, Revision = revision, Commit = commit, Files = files, License = ReadLicense(root) };
    }

    /// <summary>Downloads one file of a repository at its commit into the cache, or finds it there, and returns its snapshot path.</summary>
    /// <param name="repository">The repository, as <see cref="GetRepositoryAsync"/> returned it.</param>
    /// <param name="path">The file's path in the repository.</param>
    /// <param name="progress">Receives <c>downloading</c> progress in bytes, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>. A canceled download keeps its partial file to resume from.</param>
    /// <returns>The path of <c>snapshots/{commit}/{path}</c>.</returns>
    /// <exception cref="HuggingFaceHubException">The file does not exist, cannot be downloaded, or its bytes do not match its size or digest.</exception>
    public async Task<string> DownloadFileAsync(HuggingFaceRepository repository, string path, IProgress<ModelPullProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var cache = Options.CacheDirectory;
        var snapshot = HuggingFaceCache.SnapshotPath(cache, repository.Id, repository.Commit, path);
        if (Options.Offline)
        {
            return File.Exists(snapshot)
                ? snapshot
                : throw new HuggingFaceHubException($"'{path}' of '{repository.Id}' at {repository.Commit[..12]} is not in the cache ({cache}) and HF_HUB_OFFLINE is set; unset it to download.");
        }

        var metadata = await GetMetadataAsync(repository, path, cancellationToken).ConfigureAwait(false);
        var listed = repository.Files.FirstOrDefault(f => f.Path == path);
        if (listed?.Sha256 is { } listedSha && metadata.Etag.Length == 64 && !string.Equals(listedSha, metadata.Etag, StringComparison.OrdinalIgnoreCase))
        {
            throw new HuggingFaceHubException($"The Hub disagrees with itself about '{path}' of '{repository.Id}': the listing says SHA-256 {listedSha}, the file's etag {metadata.Etag}.");
        }

        var blob = HuggingFaceCache.BlobPath(cache, repository.Id, metadata.Etag);
        var digest = metadata.Etag.Length == 64 ? "sha256:" + metadata.Etag : null;
        if (!File.Exists(blob))
        {
            var lockPath = HuggingFaceCache.LockPath(cache, repository.Id, metadata.Etag);
            using var fileLock = await FileLock.AcquireAsync(lockPath, () => progress?.Report(new ModelPullProgress("waiting for another pull", path, 0, metadata.Size, digest)), cancellationToken).ConfigureAwait(false);
            if (!File.Exists(blob))
            {
                await DownloadBlobAsync(repository, path, metadata, blob, progress, cancellationToken).ConfigureAwait(false);
            }
        }

        progress?.Report(new ModelPullProgress("downloading", path, metadata.Size ?? 0, metadata.Size, digest));
        HuggingFaceCache.LinkSnapshot(cache, repository.Id, repository.Commit, path, metadata.Etag);
        return snapshot;
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();

    internal static bool IsCommit(string revision) => revision.Length == 40 && revision.All(char.IsAsciiHexDigitLower);

    internal static string ValidateRepoId(string repoId)
    {
        ArgumentNullException.ThrowIfNull(repoId);
        return IsRepoId(repoId) ? repoId : throw new ModelLibraryException($"'{repoId}' is not a Hugging Face repository id: use org/name, with letters, digits, '-', '_' and '.'.");
    }

    internal static bool IsRepoId(string repoId)
    {
        var parts = repoId.Split('/');
        return parts.Length is 1 or 2 && parts.All(p => p.Length is > 0 and <= 96 && p is not "." and not ".." && p.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') && !p.StartsWith('-') && !p.StartsWith('.'));
    }

    private static string? ReadLicense(JsonElement root)
    {
        if (root.TryGetProperty("cardData", out var card) && card.ValueKind == JsonValueKind.Object && card.TryGetProperty("license", out var license) && license.ValueKind == JsonValueKind.String)
        {
            return license.GetString();
        }

        if (root.TryGetProperty("tags", out var tags) && tags.ValueKind == JsonValueKind.Array)
        {
            foreach (var tag in tags.EnumerateArray())
            {
                if (tag.GetString() is { } text && text.StartsWith("license:", StringComparison.Ordinal))
                {
                    return text["license:".Length..];
                }
            }
        }

        return null;
    }

    private HuggingFaceRepository GetCachedRepository(string repoId, string revision)
    {
        var cache = Options.CacheDirectory;
        string? commit = IsCommit(revision) ? revision : null;
        var refPath = HuggingFaceCache.RefPath(cache, repoId, revision);
        if (commit is null && File.Exists(refPath))
        {
            commit = File.ReadAllText(refPath).Trim();
        }

        var snapshot = commit is null ? null : HuggingFaceCache.SnapshotDirectory(cache, repoId, commit);
        if (snapshot is null || !Directory.Exists(snapshot))
        {
            throw new HuggingFaceHubException($"'{repoId}' at '{revision}' is not in the cache ({cache}) and HF_HUB_OFFLINE is set; unset it to download.");
        }

        var files = Directory.EnumerateFiles(snapshot, "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(".tmp", StringComparison.Ordinal))
            .Select(f => new HuggingFaceRepositoryFile { Path = Path.GetRelativePath(snapshot, f).Replace(Path.DirectorySeparatorChar, '/'), Size = new FileInfo(f).Length })
            .OrderBy(f => f.Path, StringComparer.Ordinal)
            .ToList();
        return new HuggingFaceRepository { Id = repoId, Revision = revision, Commit = commit!, Files = files };
    }

    private async Task<FileMetadata> GetMetadataAsync(HuggingFaceRepository repository, string path, CancellationToken cancellationToken)
    {
        var url = ResolveUrl(repository.Id, repository.Commit, path);
        for (int hop = 0; hop < 10; hop++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Options.MetadataTimeout);
            using var response = await SendAsync(HttpMethod.Head, url, repository.Id, repository.Revision, null, timeout.Token, cancellationToken).ConfigureAwait(false);
            int status = (int)response.StatusCode;
            bool redirect = status is >= 300 and < 400 && response.Headers.Location is not null;
            if (redirect && !response.Headers.Location!.IsAbsoluteUri)
            {
                // A relative redirect: the repository was renamed; ask its new address.
                url = new Uri(url, response.Headers.Location);
                continue;
            }

            if (!redirect)
            {
                await ThrowForStatusAsync(response, repository.Id, repository.Revision, path).ConfigureAwait(false);
            }

            var etag = Header(response, "X-Linked-Etag") ?? response.Headers.ETag?.Tag ?? Header(response, "ETag");
            etag = etag is null ? null : NormalizeEtag(etag);
            long? size = long.TryParse(Header(response, "X-Linked-Size"), NumberStyles.None, CultureInfo.InvariantCulture, out var linked) ? linked
                : !redirect ? response.Content.Headers.ContentLength : null;
            if (string.IsNullOrEmpty(etag) || etag.IndexOfAny(['/', '\\', '.']) >= 0)
            {
                throw new HuggingFaceHubException($"The Hub gave no usable etag for '{path}' of '{repository.Id}'; cannot cache it safely.");
            }

            size ??= repository.Files.FirstOrDefault(f => f.Path == path)?.Size;
            return new FileMetadata(etag, size, redirect ? response.Headers.Location! : url);
        }

        throw new HuggingFaceHubException($"Too many redirects resolving '{path}' of '{repository.Id}'.");
    }

    private async Task DownloadBlobAsync(HuggingFaceRepository repository, string path, FileMetadata metadata, string blob, IProgress<ModelPullProgress>? progress, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
        var partial = blob + ".incomplete";
        var digest = metadata.Etag.Length == 64 ? "sha256:" + metadata.Etag : null;
        long existing = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        if (metadata.Size is { } size)
        {
            long free = (FreeSpaceProbe ?? AvailableFreeSpace)(Path.GetDirectoryName(blob)!);
            if (free >= 0 && size - existing > free)
            {
                throw new ModelLibraryException(string.Create(CultureInfo.InvariantCulture, $"Not enough disk space for '{path}' of '{repository.Id}': it needs {Format(size - existing)} more, {Format(free)} is free in {Options.CacheDirectory}. Free space or set HF_HUB_CACHE to a larger disk."));
            }
        }

        int failuresWithoutProgress = 0;
        var url = metadata.DownloadUrl;
        while (true)
        {
            existing = File.Exists(partial) ? new FileInfo(partial).Length : 0;
            if (metadata.Size is { } expected && existing >= expected)
            {
                break;
            }

            long before = existing;
            try
            {
                var (done, redirect) = await TransferAsync(repository, path, url, partial, existing, metadata.Size, digest, progress, cancellationToken).ConfigureAwait(false);
                if (redirect is not null)
                {
                    url = redirect;
                    continue;
                }

                if (done)
                {
                    break;
                }
            }
            catch (Exception ex) when (IsTransient(ex, cancellationToken))
            {
                long now = File.Exists(partial) ? new FileInfo(partial).Length : 0;
                failuresWithoutProgress = now > before ? 0 : failuresWithoutProgress + 1;
                if (failuresWithoutProgress > Options.MaxRetryAttempts)
                {
                    throw new HuggingFaceHubException($"Downloading '{path}' of '{repository.Id}' failed after {Options.MaxRetryAttempts} retries without progress ({ex.Message}); run the pull again to resume from {Format(now)}.", ex);
                }

                await Task.Delay(Options.RetryDelay * Math.Pow(2, Math.Max(failuresWithoutProgress - 1, 0)), cancellationToken).ConfigureAwait(false);
            }
        }

        progress?.Report(new ModelPullProgress("verifying sha256 digest", path, metadata.Size ?? 0, metadata.Size, digest));
        await VerifyAsync(repository, path, metadata, partial, cancellationToken).ConfigureAwait(false);
        File.Move(partial, blob, overwrite: false);
    }

    private async Task<(bool Done, Uri? Redirect)> TransferAsync(HuggingFaceRepository repository, string path, Uri url, string partial, long existing, long? size, string? digest, IProgress<ModelPullProgress>? progress, CancellationToken cancellationToken)
    {
        using var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        connect.CancelAfter(Options.DownloadTimeout + Options.MetadataTimeout);
        using var response = await SendAsync(HttpMethod.Get, url, repository.Id, repository.Revision, existing > 0 ? new RangeHeaderValue(existing, null) : null, connect.Token, cancellationToken, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
        int status = (int)response.StatusCode;
        if (status is >= 300 and < 400 && response.Headers.Location is { } location)
        {
            return (false, location.IsAbsoluteUri ? location : new Uri(url, location));
        }

        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            // The partial file is already as long as the content (or longer: start over).
            if (size is null || existing > size)
            {
                File.Delete(partial);
                return (false, null);
            }

            return (true, null);
        }

        await ThrowForStatusAsync(response, repository.Id, repository.Revision, path).ConfigureAwait(false);
        bool append = response.StatusCode == HttpStatusCode.PartialContent && existing > 0;
        await using var file = new FileStream(partial, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        long written = append ? existing : 0;
        var buffer = new byte[1 << 16];
        while (true)
        {
            using var read = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            read.CancelAfter(Options.DownloadTimeout);
            int n;
            try
            {
                n = await body.ReadAsync(buffer, read.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"No data for {Options.DownloadTimeout.TotalSeconds:0.#} s.", ex);
            }

            if (n == 0)
            {
                break;
            }

            try
            {
                await file.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex) when (IsDiskFull(ex))
            {
                await file.DisposeAsync().ConfigureAwait(false);
                File.Delete(partial);
                throw new ModelLibraryException($"The disk is full: writing '{path}' of '{repository.Id}' to {Options.CacheDirectory} failed ({ex.Message}); the partial file was removed. Free space or set HF_HUB_CACHE to a larger disk.", ex);
            }

            written += n;
            progress?.Report(new ModelPullProgress("downloading", path, written, size, digest));
        }

        await file.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (size is { } expected && written < expected)
        {
            throw new IOException($"The transfer ended at {written} of {expected} bytes.");
        }

        return (true, null);
    }

    private static async Task VerifyAsync(HuggingFaceRepository repository, string path, FileMetadata metadata, string partial, CancellationToken cancellationToken)
    {
        long length = new FileInfo(partial).Length;
        string? problem = null;
        if (metadata.Size is { } size && length != size)
        {
            problem = string.Create(CultureInfo.InvariantCulture, $"it has {length} bytes, the Hub said {size}");
        }
        else if (metadata.Etag.Length == 64 && metadata.Etag.All(char.IsAsciiHexDigit))
        {
            string actual;
            await using (var stream = new FileStream(partial, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan))
            {
                actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
            }

            if (!string.Equals(actual, metadata.Etag, StringComparison.OrdinalIgnoreCase))
            {
                problem = $"its SHA-256 is {actual}, the Hub said {metadata.Etag}";
            }
        }
        else if (metadata.Etag.Length == 40 && metadata.Etag.All(char.IsAsciiHexDigit))
        {
            string actual;
            await using (var stream = new FileStream(partial, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan))
            {
                using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
                sha1.AppendData(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"blob {length}\0")));
                var buffer = new byte[1 << 16];
                int n;
                while ((n = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    sha1.AppendData(buffer, 0, n);
                }

                actual = Convert.ToHexStringLower(sha1.GetHashAndReset());
            }

            if (!string.Equals(actual, metadata.Etag, StringComparison.OrdinalIgnoreCase))
            {
                problem = $"its git blob id is {actual}, the Hub said {metadata.Etag}";
            }
        }

        if (problem is not null)
        {
            File.Delete(partial);
            throw new HuggingFaceHubException($"The download of '{path}' of '{repository.Id}' is corrupt: {problem}. It was deleted; run the pull again.");
        }
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri url, string repoId, string revision, RangeHeaderValue? range, CancellationToken requestToken, CancellationToken userToken, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        using var request = new HttpRequestMessage(method, url);
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
        request.Headers.Range = range;

        // The token goes to the Hub only, never to the CDN a download is redirected to.
        if (Options.Token is { } token && Uri.Compare(url, Options.Endpoint, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        try
        {
            return await _http.SendAsync(request, completion, requestToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!userToken.IsCancellationRequested)
        {
            throw new HuggingFaceHubException($"The Hub at {Options.Endpoint} did not answer in time for '{repoId}' at '{revision}' ({url.AbsolutePath}).", ex);
        }
        catch (HttpRequestException ex)
        {
            throw new HuggingFaceHubException($"Cannot reach the Hub at {url.GetLeftPart(UriPartial.Authority)} for '{repoId}': {ex.Message} Set HF_ENDPOINT for a mirror, or HF_HUB_OFFLINE=1 to use the cache only.", ex);
        }
    }

    private async Task ThrowForStatusAsync(HttpResponseMessage response, string repoId, string revision, string? path)
    {
        int status = (int)response.StatusCode;
        if (status < 400)
        {
            return;
        }

        var code = Header(response, "X-Error-Code");
        var message = Header(response, "X-Error-Message");
        if (message is null && response.Content.Headers.ContentType?.MediaType == "application/json")
        {
            try
            {
                using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync().ConfigureAwait(false));
                message = document.RootElement.TryGetProperty("error", out var error) ? error.GetString() : null;
            }
            catch (JsonException)
            {
            }
        }

        bool hasToken = Options.Token is not null;
        string text = code switch
        {
            "RepoNotFound" => $"Repository '{repoId}' was not found on {Options.Endpoint}" + (hasToken ? " (or the token in HF_TOKEN has no access to it)." : " (if it is private or gated, set HF_TOKEN to an access token)."),
            "RevisionNotFound" => $"Revision '{revision}' was not found in '{repoId}'.",
            "EntryNotFound" => $"'{path}' does not exist in '{repoId}' at '{revision}'.",
            "GatedRepo" => $"'{repoId}' is gated: accept its conditions at {new Uri(Options.Endpoint, repoId)} and " + (hasToken ? "check that the token in HF_TOKEN belongs to an account with access." : "set HF_TOKEN to an access token of that account (no HF_TOKEN is set)."),
            _ when status == 401 && message?.Contains("Invalid credentials", StringComparison.OrdinalIgnoreCase) == true => $"The Hub refused the token in HF_TOKEN: {message}",
            _ when status == 401 => $"Repository '{repoId}' was not found on {Options.Endpoint}" + (hasToken ? " (or the token in HF_TOKEN has no access to it)." : " (if it is private or gated, set HF_TOKEN to an access token)."),
            _ => string.Create(CultureInfo.InvariantCulture, $"The Hub answered {status} {response.ReasonPhrase} for {(path is null ? $"'{repoId}' at '{revision}'" : $"'{path}' of '{repoId}'")}{(message is null ? "." : ": " + message)}"),
        };
        if (code is "RepoNotFound" or "RevisionNotFound" or "EntryNotFound" or "GatedRepo" && message is { Length: > 0 } && message.Contains("disabled", StringComparison.OrdinalIgnoreCase))
        {
            text += " " + message;
        }

        throw new HuggingFaceHubException(text) { ErrorCode = code ?? (status == 401 ? "RepoNotFound" : null), StatusCode = response.StatusCode };
    }

    private Uri ResolveUrl(string repoId, string revision, string path) =>
        new(Options.Endpoint, $"{repoId}/resolve/{Uri.EscapeDataString(revision)}/{string.Join('/', path.Split('/').Select(Uri.EscapeDataString))}");

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values) ? values.FirstOrDefault() : null;

    private static string NormalizeEtag(string etag)
    {
        var text = etag.Trim();
        if (text.StartsWith("W/", StringComparison.Ordinal))
        {
            text = text[2..];
        }

        return text.Trim('"').ToLowerInvariant();
    }

    // Request-level failures (connection errors, 408, 429, 5xx) were already retried by the resilience handler; what is left
    // to retry here is a transfer that broke off mid-body, which resumes from the partial file's length.
    private static bool IsTransient(Exception ex, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested && ex switch
        {
            HuggingFaceHubException hub => hub.StatusCode is null && hub.InnerException is HttpRequestException or OperationCanceledException,
            ModelLibraryException => false,
            IOException or HttpRequestException or TimeoutException => true,
            _ => false,
        };

    private static bool IsDiskFull(IOException ex) => ex.HResult is 28 or 39 or 112 or unchecked((int)0x80070070) or unchecked((int)0x80070027);

    private static long AvailableFreeSpace(string folder)
    {
        try
        {
            return new DriveInfo(folder).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return -1;
        }
    }

    private static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.0} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.0} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes"),
    };

    private sealed record FileMetadata(string Etag, long? Size, Uri DownloadUrl);
}
