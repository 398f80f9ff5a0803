using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;

namespace Infera.Server;

/// <summary><c>GET /</c> and <c>HEAD /</c>: the chat page for browsers (when enabled), "Infera is running" for everything else; and the page's files under <c>/ui/</c>.</summary>
internal static class ChatPageEndpoints
{
    /// <summary>The page's policy: its own scripts, styles and API only; no inline code, no other origin, no framing.</summary>
    internal const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private const string Running = "Infera is running";

    public static void Map(IEndpointRouteBuilder group)
    {
        group.MapMethods("/", [HttpMethods.Get, HttpMethods.Head], RootAsync);
        group.MapMethods("/ui/{name}", [HttpMethods.Get, HttpMethods.Head], AssetAsync);
    }

    private static Task RootAsync(HttpContext http)
    {
        var response = http.Response;
        response.Headers.Vary = HeaderNames.Accept;
        var options = http.RequestServices.GetRequiredService<InferaServerOptions>();
        if (!options.EnableChatPage || !AcceptsHtml(http.Request))
        {
            response.ContentType = "text/plain; charset=utf-8";
            return HttpMethods.IsHead(http.Request.Method) ? Task.CompletedTask : response.WriteAsync(Running, http.RequestAborted);
        }

        // The page links its files and the API relatively ("ui/app.js", "v1/models"), so it must be addressed as a folder.
        var path = http.Request.PathBase + http.Request.Path;
        if (!path.Value!.EndsWith('/'))
        {
            response.Redirect(path + "/" + http.Request.QueryString);
            return Task.CompletedTask;
        }

        return WriteAsync(http, ChatPageAsset.Page);
    }

    private static Task AssetAsync(HttpContext http)
    {
        var options = http.RequestServices.GetRequiredService<InferaServerOptions>();
        var asset = options.EnableChatPage ? ChatPageAsset.Find(http.GetRouteValue("name") as string) : null;
        if (asset is null || asset == ChatPageAsset.Page)
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        return WriteAsync(http, asset);
    }

    private static Task WriteAsync(HttpContext http, ChatPageAsset asset)
    {
        var response = http.Response;
        var headers = response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";

        // Revalidated on every load, so a new version of the server is picked up at once; unchanged files cost a 304.
        headers.CacheControl = "no-cache";
        headers.ETag = asset.ETag;
        if (http.Request.GetTypedHeaders().IfNoneMatch.Any(tag => tag.Tag.Equals(asset.ETag, StringComparison.Ordinal)))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }

        response.ContentType = asset.ContentType;
        response.ContentLength = asset.Content.Length;
        return HttpMethods.IsHead(http.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(asset.Content, http.RequestAborted).AsTask();
    }

    private static bool AcceptsHtml(HttpRequest request)
    {
        foreach (var value in request.GetTypedHeaders().Accept)
        {
            if (value.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase) && value.Quality is not 0)
            {
                return true;
            }
        }

        return false;
    }
}
