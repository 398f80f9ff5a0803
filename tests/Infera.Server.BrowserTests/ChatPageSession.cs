using System.Collections.Concurrent;
using System.Net;
using Microsoft.Playwright;

namespace Infera.Server.BrowserTests;

/// <summary>The chat page open in a fresh browser context (its own storage), logging every request the page makes and every console message.</summary>
internal sealed class ChatPageSession : IAsyncDisposable
{
    private readonly IBrowserContext _context;

    private ChatPageSession(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
    }

    public IPage Page { get; }

    /// <summary>Gets every URL the page requested, in order; requests to any other host than the loopback address are aborted.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Gets the bodies of the chat completion requests the page sent.</summary>
    public ConcurrentQueue<string> ChatRequests { get; } = new();

    /// <summary>Gets the console messages and uncaught errors of the page.</summary>
    public ConcurrentQueue<string> Console { get; } = new();

    public ILocator Input => Page.Locator("#input");

    public ILocator LastReply => Page.Locator("#messages .message.assistant").Last;

    public static async Task<ChatPageSession> OpenAsync(BrowserFixture fixture, string? apiKey = BrowserFixture.ApiKey, int width = 1280, int height = 800)
    {
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = height },
            Permissions = ["clipboard-read", "clipboard-write"],
        });
        var page = await context.NewPageAsync();
        var session = new ChatPageSession(context, page);
        await context.RouteAsync("**/*", async route =>
        {
            var request = route.Request;
            session.Requests.Enqueue(request.Url);
            if (!IsLoopback(new Uri(request.Url)))
            {
                await route.AbortAsync();
                return;
            }

            if (request.Method == "POST" && request.Url.EndsWith("/v1/chat/completions", StringComparison.Ordinal))
            {
                session.ChatRequests.Enqueue(request.PostData ?? string.Empty);
            }

            await route.ContinueAsync();
        });
        page.Console += (_, message) => session.Console.Enqueue($"{message.Type}: {message.Text}");
        page.PageError += (_, error) => session.Console.Enqueue("uncaught: " + error);
        if (apiKey is not null)
        {
            // As if the user had entered the key earlier: the page keeps it in localStorage.
            await context.AddInitScriptAsync($"localStorage.setItem('infera.apiKey', JSON.stringify('{apiKey}'))");
        }

        await page.GotoAsync(fixture.BaseAddress.ToString());
        await page.Locator("body[data-ready=true]").WaitForAsync();
        return session;
    }

    public static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    public async Task SetOptionsAsync(string? temperature = null, string? maxTokens = null)
    {
        if (await Page.Locator("#settings").IsHiddenAsync())
        {
            await Page.ClickAsync("#toggle-settings");
        }

        if (temperature is not null)
        {
            await Page.FillAsync("#temperature", temperature);
        }

        if (maxTokens is not null)
        {
            await Page.FillAsync("#max-tokens", maxTokens);
        }
    }

    public async Task SendAsync(string text)
    {
        await Input.FillAsync(text);
        await Input.PressAsync("Enter");
    }

    /// <summary>Waits until the last reply has finished (its statistics are shown) and returns its text.</summary>
    public async Task<string> WaitForReplyAsync()
    {
        await LastReply.Locator(".stats").WaitForAsync(new LocatorWaitForOptions { Timeout = 60_000 });
        return await LastReply.Locator(".text").TextContentAsync() ?? string.Empty;
    }

    /// <summary>Asserts that the page requested nothing outside the loopback address and hit no script error or policy violation.</summary>
    public void AssertCleanRun()
    {
        Assert.NotEmpty(Requests);
        Assert.All(Requests, url => Assert.True(IsLoopback(new Uri(url)), "request outside the loopback address: " + url));
        Assert.DoesNotContain(Console, m => m.StartsWith("uncaught", StringComparison.Ordinal) || m.Contains("Content Security Policy", StringComparison.Ordinal));
    }

    public async ValueTask DisposeAsync() => await _context.DisposeAsync();
}
