using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Infera.Models.Tests;

/// <summary>
/// A Hugging Face Hub on loopback: a "hub" server answering <c>/api/models/{repo}/revision/{rev}</c> and
/// <c>/{repo}/resolve/{rev}/{path}</c> with the Hub's headers (X-Repo-Commit, ETag, X-Linked-Etag, X-Linked-Size, X-Error-Code),
/// redirecting LFS files to a second "CDN" server that honours Range. Faults are injected per file.
/// </summary>
internal sealed class FakeHub : IAsyncDisposable
{
    private readonly WebApplication _hub;
    private readonly WebApplication _cdn;
    private readonly ConcurrentDictionary<string, FakeRepo> _repos = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, (FakeRepo Repo, FakeFile File)> _blobs = new();

    private FakeHub(WebApplication hub, WebApplication cdn)
    {
        _hub = hub;
        _cdn = cdn;
    }

    public Uri Endpoint { get; private set; } = null!;

    public Uri CdnEndpoint { get; private set; } = null!;

    /// <summary>Gets every request both servers saw: "HUB HEAD /path", "CDN GET /blobs/x range=bytes=10-", with the Authorization header flag.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Gets or sets the token a gated repository accepts.</summary>
    public string ValidToken { get; set; } = "hf_test_token";

    /// <summary>Gets or sets how many of the next metadata requests answer 503 (to exercise retries).</summary>
    public int FailNextMetadataRequests;

    public static async Task<FakeHub> StartAsync()
    {
        var hub = CreateApp();
        var cdn = CreateApp();
        var fake = new FakeHub(hub, cdn);
        hub.Run(fake.HandleHubAsync);
        cdn.Run(fake.HandleCdnAsync);
        await hub.StartAsync().ConfigureAwait(false);
        await cdn.StartAsync().ConfigureAwait(false);
        fake.Endpoint = new Uri(hub.Urls.First());
        fake.CdnEndpoint = new Uri(cdn.Urls.First());
        return fake;
    }

    /// <summary>Adds a repository whose files are those of a folder (paths relative to it), optionally under a prefix.</summary>
    public FakeRepo AddRepo(string id, bool gated = false, string? license = "mit")
    {
        var repo = new FakeRepo(id, gated, license);
        _repos[id] = repo;
        return repo;
    }

    public FakeRepo Repo(string id) => _repos[id];

    public async ValueTask DisposeAsync()
    {
        await _hub.DisposeAsync().ConfigureAwait(false);
        await _cdn.DisposeAsync().ConfigureAwait(false);
    }

    private static WebApplication CreateApp()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        return builder.Build();
    }

    private static bool IsLfs(string path) => !path.EndsWith(".json", StringComparison.Ordinal) && !path.EndsWith(".txt", StringComparison.Ordinal);

    private static async Task ErrorAsync(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        context.Response.Headers["X-Error-Code"] = code;
        context.Response.Headers["X-Error-Message"] = message;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new { error = message })).ConfigureAwait(false);
    }

    private async Task HandleHubAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value!;
        Requests.Enqueue($"HUB {request.Method} {Uri.UnescapeDataString(path)}{(request.Headers.Authorization.Count > 0 ? " auth" : string.Empty)}");
        if (path.StartsWith("/api/models/", StringComparison.Ordinal))
        {
            if (Interlocked.Decrement(ref FailNextMetadataRequests) >= 0)
            {
                context.Response.StatusCode = 503;
                return;
            }

            // /api/models/{org}/{name}/revision/{rev}
            var parts = path["/api/models/".Length..].Split('/');
            if (parts.Length != 4 || parts[2] != "revision")
            {
                context.Response.StatusCode = 404;
                return;
            }

            var repo = await AuthorizeAsync(context, parts[0] + "/" + parts[1]).ConfigureAwait(false);
            if (repo is null)
            {
                return;
            }

            var revision = Uri.UnescapeDataString(parts[3]);
            if (!repo.TryResolve(revision, out var commit))
            {
                await ErrorAsync(context, 404, "RevisionNotFound", $"Invalid rev id: {revision}").ConfigureAwait(false);
                return;
            }

            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(JsonSerializer.Serialize(new
            {
                id = repo.Id,
                modelId = repo.Id,
                sha = commit,
                gated = repo.Gated ? "manual" : (object)false,
                tags = repo.License is null ? Array.Empty<string>() : ["license:" + repo.License],
                cardData = repo.License is null ? null : new { license = repo.License },
                siblings = repo.Files.Values.Select(f => new
                {
                    rfilename = f.Path,
                    size = f.Content.Length,
                    blobId = f.GitBlobId,
                    lfs = IsLfs(f.Path) ? new { sha256 = f.Sha256, size = (long)f.Content.Length, pointerSize = 134 } : null,
                }),
            })).ConfigureAwait(false);
            return;
        }

        // /{org}/{name}/resolve/{rev}/{path...}
        var segments = path.TrimStart('/').Split('/');
        if (segments.Length < 5 || segments[2] != "resolve")
        {
            context.Response.StatusCode = 404;
            return;
        }

        var found = await AuthorizeAsync(context, segments[0] + "/" + segments[1]).ConfigureAwait(false);
        if (found is null)
        {
            return;
        }

        var rev = Uri.UnescapeDataString(segments[3]);
        if (!found.TryResolve(rev, out var sha))
        {
            await ErrorAsync(context, 404, "RevisionNotFound", $"Invalid rev id: {rev}").ConfigureAwait(false);
            return;
        }

        var filePath = string.Join('/', segments[4..].Select(Uri.UnescapeDataString));
        if (!found.Files.TryGetValue(filePath, out var file))
        {
            await ErrorAsync(context, 404, "EntryNotFound", $"{filePath} does not exist on \"{rev}\"").ConfigureAwait(false);
            return;
        }

        var response = context.Response;
        response.Headers["X-Repo-Commit"] = sha;
        if (IsLfs(filePath))
        {
            _blobs[file.Sha256] = (found, file);
            response.StatusCode = 302;
            response.Headers.ETag = "\"" + file.GitBlobId + "\"";
            response.Headers["X-Linked-Etag"] = "\"" + file.Sha256 + "\"";
            response.Headers["X-Linked-Size"] = file.Content.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
            response.Headers.Location = new Uri(CdnEndpoint, "blobs/" + file.Sha256 + "?signature=abc").ToString();
            return;
        }

        response.Headers.ETag = "W/\"" + file.GitBlobId + "\"";
        response.ContentLength = file.Content.Length;
        if (request.Method == "GET")
        {
            await response.Body.WriteAsync(file.Content).ConfigureAwait(false);
        }
    }

    private async Task<FakeRepo?> AuthorizeAsync(HttpContext context, string id)
    {
        if (!_repos.TryGetValue(id, out var repo))
        {
            await ErrorAsync(context, 401, "RepoNotFound", "Repository not found").ConfigureAwait(false);
            return null;
        }

        if (repo.Gated)
        {
            var auth = context.Request.Headers.Authorization.ToString();
            if (auth.Length == 0)
            {
                await ErrorAsync(context, 401, "GatedRepo", $"Access to model {id} is restricted. You must have access to it and be authenticated to access it. Please log in.").ConfigureAwait(false);
                return null;
            }

            if (auth != "Bearer " + ValidToken)
            {
                await ErrorAsync(context, 403, "GatedRepo", $"Access to model {id} is restricted and you are not in the authorized list.").ConfigureAwait(false);
                return null;
            }
        }

        return repo;
    }

    private async Task HandleCdnAsync(HttpContext context)
    {
        var request = context.Request;
        var range = request.Headers.Range.ToString();
        Requests.Enqueue($"CDN {request.Method} {request.Path}{(range.Length > 0 ? " range=" + range : string.Empty)}{(request.Headers.Authorization.Count > 0 ? " auth" : string.Empty)}");
        var sha = request.Path.Value!["/blobs/".Length..];
        if (!_blobs.TryGetValue(sha, out var entry))
        {
            context.Response.StatusCode = 404;
            return;
        }

        var file = entry.File;
        var content = file.CorruptServedBytes ? Corrupt(file.Content) : file.Content;
        long start = 0;
        if (range.StartsWith("bytes=", StringComparison.Ordinal) && !file.IgnoreRange)
        {
            start = long.Parse(range["bytes=".Length..].TrimEnd('-'), System.Globalization.CultureInfo.InvariantCulture);
            if (start >= content.Length)
            {
                context.Response.StatusCode = 416;
                return;
            }

            context.Response.StatusCode = 206;
            context.Response.Headers.ContentRange = $"bytes {start}-{content.Length - 1}/{content.Length}";
        }

        context.Response.ContentLength = content.Length - start;
        context.Response.Headers.ETag = "\"" + file.Sha256 + "\"";
        if (request.Method != "GET")
        {
            return;
        }

        long end = content.Length;
        if (file.CutAfterBytes is { } cut && Interlocked.Exchange(ref file.CutsLeft, file.CutsLeft - 1) > 0 && cut > start)
        {
            end = cut;
        }

        for (long offset = start; offset < end; offset += 4096)
        {
            int count = (int)Math.Min(4096, end - offset);
            await context.Response.Body.WriteAsync(content.AsMemory((int)offset, count)).ConfigureAwait(false);
            await context.Response.Body.FlushAsync().ConfigureAwait(false);
            if (file.Gate is { } gate && offset + count >= content.Length / 2 && offset < content.Length / 2 + 4096)
            {
                file.HalfSent.TrySetResult();
                await gate.Task.ConfigureAwait(false);
            }
        }

        if (end < content.Length)
        {
            // Cut the connection mid-body: the client sees a truncated transfer.
            context.Abort();
        }
    }

    private static byte[] Corrupt(byte[] content)
    {
        var copy = (byte[])content.Clone();
        copy[copy.Length / 2] ^= 0xFF;
        return copy;
    }
}

/// <summary>A repository of the fake Hub: files at one commit, reachable as main, as a tag v1, and by the commit itself.</summary>
internal sealed class FakeRepo(string id, bool gated, string? license)
{
    public string Id { get; } = id;

    public bool Gated { get; } = gated;

    public string? License { get; } = license;

    public string Commit { get; } = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(id)));

    public Dictionary<string, FakeFile> Files { get; } = new(StringComparer.Ordinal);

    public FakeRepo AddFolder(string folder, string prefix = "")
    {
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            AddFile(prefix + Path.GetRelativePath(folder, file).Replace(Path.DirectorySeparatorChar, '/'), File.ReadAllBytes(file));
        }

        return this;
    }

    public FakeFile AddFile(string path, byte[] content)
    {
        var file = new FakeFile(path, content);
        Files[path] = file;
        return file;
    }

    public bool TryResolve(string revision, out string commit)
    {
        commit = Commit;
        return revision is "main" or "v1" || revision == Commit;
    }
}

/// <summary>A file of a fake repository, with its faults.</summary>
internal sealed class FakeFile(string path, byte[] content)
{
    public string Path { get; } = path;

    public byte[] Content { get; } = content;

    public string Sha256 { get; } = Convert.ToHexStringLower(SHA256.HashData(content));

    public string GitBlobId { get; } = Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {content.Length}\0"), .. content]));

    /// <summary>Gets or sets the byte after which the CDN cuts the connection, <see cref="CutsLeft"/> times.</summary>
    public long? CutAfterBytes { get; set; }

    public int CutsLeft;

    /// <summary>Gets or sets whether the CDN serves bytes that do not match the advertised SHA-256.</summary>
    public bool CorruptServedBytes { get; set; }

    /// <summary>Gets or sets whether the CDN ignores Range and answers 200 with the whole content.</summary>
    public bool IgnoreRange { get; set; }

    /// <summary>Gets or sets a gate the CDN waits on after sending half the file (signalling <see cref="HalfSent"/>).</summary>
    public TaskCompletionSource? Gate { get; set; }

    public TaskCompletionSource HalfSent { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
