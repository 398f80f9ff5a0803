using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;

namespace Infera.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed partial class ChatPageEndpointsTests(ServerFixture fixture)
{
    private const string BrowserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

    [Theory]
    [InlineData(null)]
    [InlineData("*/*")]
    [InlineData("application/json")]
    [InlineData("text/html;q=0")]
    public async Task Root_ClientNotAskingForHtml_AnswersInferaIsRunning(string? accept)
    {
        using var http = new HttpClient { BaseAddress = fixture.Server.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Infera is running", await response.Content.ReadAsStringAsync());
        Assert.Contains("Accept", response.Headers.Vary);
    }

    [Fact]
    public async Task Root_Head_AnswersOkWithoutBody()
    {
        using var http = new HttpClient { BaseAddress = fixture.Server.BaseAddress };

        using var response = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Root_Browser_GetsThePageWithItsSecurityPolicyWithoutAKey()
    {
        using var http = new HttpClient { BaseAddress = fixture.Server.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.TryAddWithoutValidation("Accept", BrowserAccept);

        using var response = await http.SendAsync(request);
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var policy = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains("style-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains("default-src 'none'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe", policy, StringComparison.Ordinal);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Contains("<script type=\"module\" src=\"ui/app.js\"></script>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Assets_EveryFileThePageLinks_IsServedAndNothingPointsElsewhere()
    {
        using var http = new HttpClient { BaseAddress = fixture.Server.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.TryAddWithoutValidation("Accept", BrowserAccept);
        using var page = await http.SendAsync(request);
        var files = new Dictionary<string, string> { ["index.html"] = await page.Content.ReadAsStringAsync() };
        foreach (var name in new[] { "app.js", "api.js", "store.js", "app.css", "icon.svg" })
        {
            using var response = await http.GetAsync("/ui/" + name);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            files[name] = await response.Content.ReadAsStringAsync();
        }

        foreach (var (name, text) in files)
        {
            // No inline script or style, and no address outside the server (the SVG namespace is a name, not a request).
            Assert.DoesNotMatch(InlineCode(), text);
            Assert.DoesNotContain(ExternalAddress().Matches(text), m => m.Value != "http://www.w3.org/2000/svg");
            Assert.DoesNotContain("innerHTML", text, StringComparison.Ordinal);
            Assert.DoesNotContain("insertAdjacentHTML", text, StringComparison.Ordinal);
        }

        var links = LinkedFile().Matches(files["index.html"]).Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.Equal(["ui/icon.svg", "ui/app.css", "ui/app.js"], links);
        Assert.All(links, link => Assert.True(files.ContainsKey(link[3..]), "the page links a file that is not served: " + link));
    }

    [Fact]
    public async Task Assets_UnknownFileOrTheSameETag_Answers404Or304()
    {
        using var http = new HttpClient { BaseAddress = fixture.Server.BaseAddress };

        using var missing = await http.GetAsync("/ui/nothing.js");
        using var pageByName = await http.GetAsync("/ui/index.html");
        using var first = await http.GetAsync("/ui/app.js");
        using var again = new HttpRequestMessage(HttpMethod.Get, "/ui/app.js");
        again.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        using var second = await http.SendAsync(again);

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, pageByName.StatusCode);
        Assert.Equal("text/javascript", first.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
    }

    [Fact]
    public async Task Root_ChatPageDisabled_BrowserGetsTextAndNoFiles()
    {
        await using var server = await InferaTestServer.StartAsync(options =>
        {
            options.AddModel(fixture.GqaRunner);
            options.EnableChatPage = false;
        });
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));

        using var root = await http.SendAsync(request);
        using var script = await http.GetAsync("/ui/app.js");

        Assert.Equal("Infera is running", await root.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, script.StatusCode);
    }

    [Fact]
    public async Task Root_UnderAPrefixWithoutTrailingSlash_RedirectsToTheFolder()
    {
        await using var server = await InferaTestServer.StartAsync(options => options.AddModel(fixture.GqaRunner), prefix: "/llm");
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = server.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/llm");
        request.Headers.TryAddWithoutValidation("Accept", BrowserAccept);
        using var folder = new HttpRequestMessage(HttpMethod.Get, "/llm/");
        folder.Headers.TryAddWithoutValidation("Accept", BrowserAccept);

        using var redirect = await http.SendAsync(request);
        using var page = await http.SendAsync(folder);
        using var script = await http.GetAsync("/llm/ui/app.js");

        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.Equal("/llm/", redirect.Headers.Location?.OriginalString);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
    }

    [GeneratedRegex(@"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=", RegexOptions.IgnoreCase)]
    private static partial Regex InlineCode();

    [GeneratedRegex(@"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s""')]*", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalAddress();

    [GeneratedRegex(@"(?:src|href)=""([^""]+)""")]
    private static partial Regex LinkedFile();
}
