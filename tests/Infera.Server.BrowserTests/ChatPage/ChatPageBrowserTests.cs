using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Infera.Tests;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Infera.Server.BrowserTests;

[Collection(BrowserCollection.Name)]
public sealed class ChatPageBrowserTests(BrowserFixture fixture, ITestOutputHelper output)
{
    private const string Prompt = "Once upon a time";

    [Fact]
    public async Task Send_GreedyPrompt_StreamsTheApisReplyAndTheGoldenText()
    {
        await using var session = await ChatPageSession.OpenAsync(fixture);
        await session.Page.SelectOptionAsync("#model", BrowserFixture.Gqa);
        await session.SetOptionsAsync(temperature: "0", maxTokens: "48");

        // Record the reply's text each time it changes while the reply is still coming (Stop shown, no statistics yet).
        await session.Page.EvaluateAsync("""
            () => {
              window.__partial = [];
              new MutationObserver(() => {
                const reply = document.querySelector('#messages .message.assistant:last-child');
                if (reply && !reply.querySelector('.stats') && !document.getElementById('stop').hidden) window.__partial.push(reply.querySelector('.text').textContent);
              }).observe(document.getElementById('messages'), { subtree: true, characterData: true, childList: true });
            }
            """);
        await session.SendAsync(Prompt);
        var reply = await session.WaitForReplyAsync();

        // The page sent the conversation and the two options the user set, nothing else.
        var sent = JsonNode.Parse(Assert.Single(session.ChatRequests))!.AsObject();
        Assert.Equal(["model", "messages", "stream", "stream_options", "temperature", "max_tokens"], sent.Select(p => p.Key).ToArray());
        Assert.Equal("""[{"role":"user","content":"Once upon a time"}]""", sent["messages"]!.ToJsonString());

        // The same request through the API gives the same text, and it is llama2.c's greedy golden text.
        sent["stream"] = false;
        sent.Remove("stream_options");
        Assert.Equal(await CompleteAsync(sent.ToJsonString()), reply);
        Assert.StartsWith(Prompt + reply, TestModels.Golden("golden-once-upon-a-time.txt"), StringComparison.Ordinal);
        Assert.True(reply.Length > 100, reply);
        var partial = await session.Page.EvaluateAsync<string[]>("() => window.__partial");
        Assert.Contains(partial, text => text.Length > 0);
        Assert.All(partial, text => Assert.StartsWith(text, reply, StringComparison.Ordinal));

        var stats = await session.LastReply.Locator(".stats").TextContentAsync();
        Assert.Matches(@"^stories260K-gqa · \d+ ms to first token · [\d.]+ tokens/s · 48 tokens · finish: length · \d+ cached prompt tokens$", stats);
        session.AssertCleanRun();
    }

    [Fact]
    public async Task Stop_EndlessReply_HaltsWithinASecond()
    {
        await using var session = await ChatPageSession.OpenAsync(fixture);
        await session.Page.SelectOptionAsync("#model", BrowserFixture.Endless);

        foreach (var how in new[] { "button", "escape" })
        {
            fixture.EndlessRunner.ResetCancelled();
            await session.SendAsync("Go on forever");
            await session.LastReply.Locator(".text").GetByText("tick tick tick").WaitForAsync();

            var clock = Stopwatch.StartNew();
            if (how == "button")
            {
                await session.Page.ClickAsync("#stop");
            }
            else
            {
                await session.Page.Keyboard.PressAsync("Escape");
            }

            // The server's generation is cancelled and the page is ready again, both within a second (waited for longer, to report the time).
            await session.Page.Locator("#send").WaitForAsync(new LocatorWaitForOptions { Timeout = 5000 });
            var pageStopped = clock.Elapsed;
            await fixture.EndlessRunner.Cancelled.WaitAsync(TimeSpan.FromSeconds(5));
            var serverStopped = clock.Elapsed;
            output.WriteLine($"{how}: the page stopped after {pageStopped.TotalMilliseconds:F0} ms, the server after {serverStopped.TotalMilliseconds:F0} ms");
            Assert.True(pageStopped < TimeSpan.FromSeconds(1) && serverStopped < TimeSpan.FromSeconds(1), $"{how}: the page stopped after {pageStopped.TotalMilliseconds:F0} ms, the server after {serverStopped.TotalMilliseconds:F0} ms");
            Assert.True(await session.Page.Locator("#stop").IsHiddenAsync());

            var text = await session.LastReply.Locator(".text").TextContentAsync();
            Assert.Matches("^(tick )+$", text);
            Assert.EndsWith("finish: stopped", await session.LastReply.Locator(".stats").TextContentAsync(), StringComparison.Ordinal);

            // Nothing arrives after the stop: the reply is the same after more than ten of the model's 20 ms steps.
            await session.Page.WaitForTimeoutAsync(300);
            Assert.Equal(text, await session.LastReply.Locator(".text").TextContentAsync());
        }

        session.AssertCleanRun();
    }

    [Fact]
    public async Task ModelPicker_SwitchingModel_SendsToTheChosenModel()
    {
        await using var session = await ChatPageSession.OpenAsync(fixture);
        var models = await session.Page.Locator("#model option").AllTextContentsAsync();
        Assert.Equal([BrowserFixture.Gqa, BrowserFixture.Onnx, BrowserFixture.Markup, BrowserFixture.Endless], models);
        await session.SetOptionsAsync(temperature: "0", maxTokens: "12");

        await session.Page.SelectOptionAsync("#model", BrowserFixture.Onnx);
        await session.SendAsync(Prompt);
        var onnxReply = await session.WaitForReplyAsync();
        Assert.StartsWith("stories260K-onnx · ", await session.LastReply.Locator(".stats").TextContentAsync(), StringComparison.Ordinal);

        await session.Page.SelectOptionAsync("#model", BrowserFixture.Markup);
        await session.SendAsync("And then?");
        var markupReply = await session.WaitForReplyAsync();

        Assert.StartsWith(Prompt + onnxReply, TestModels.Golden("golden-once-upon-a-time.txt"), StringComparison.Ordinal);
        Assert.Equal(string.Concat(BrowserFixture.MarkupPieces), markupReply);
        var models2 = session.ChatRequests.Select(body => JsonNode.Parse(body)!["model"]!.GetValue<string>());
        Assert.Equal([BrowserFixture.Onnx, BrowserFixture.Markup], models2);

        // The second request carried the whole conversation.
        var second = JsonNode.Parse(session.ChatRequests.Last())!["messages"]!.AsArray();
        Assert.Equal(["user", "assistant", "user"], second.Select(m => m!["role"]!.GetValue<string>()));
        session.AssertCleanRun();
    }

    [Fact]
    public async Task ApiKey_WrongThenRight_ShowsAReadableErrorThenTheModels()
    {
        await using var session = await ChatPageSession.OpenAsync(fixture, apiKey: null);
        var error = session.Page.Locator("#error");
        Assert.Equal("This server needs an API key: enter it under Settings.", await error.TextContentAsync());
        Assert.True(await session.Page.Locator("#api-key").IsVisibleAsync());

        await session.Page.FillAsync("#api-key", "wrong-key");
        await session.Page.Keyboard.PressAsync("Tab");
        await Assertions.Expect(error).ToHaveTextAsync("The API key was refused (401: Incorrect API key provided.).");

        await session.Page.FillAsync("#api-key", BrowserFixture.ApiKey);
        await session.Page.Keyboard.PressAsync("Tab");
        await Assertions.Expect(error).ToBeHiddenAsync();
        await Assertions.Expect(session.Page.Locator("#model option")).ToHaveCountAsync(4);

        // The key lives in this browser's storage and travels only to this server.
        Assert.Equal(BrowserFixture.ApiKey, await session.Page.EvaluateAsync<string>("() => JSON.parse(localStorage.getItem('infera.apiKey'))"));
        session.AssertCleanRun();
    }

    [Fact]
    public async Task Reply_WithMarkup_IsShownAsText()
    {
        await using var session = await ChatPageSession.OpenAsync(fixture);
        await session.Page.SelectOptionAsync("#model", BrowserFixture.Markup);
        await session.SendAsync("<img src=x onerror=\"window.__xss=3\">");

        var reply = await session.WaitForReplyAsync();

        Assert.Equal(string.Concat(BrowserFixture.MarkupPieces), reply);
        Assert.Equal("<img src=x onerror=\"window.__xss=3\">", await session.Page.Locator("#messages .message.user .text").TextContentAsync());
        Assert.Equal(0, await session.Page.Locator("#messages img, #messages script, #messages b").CountAsync());
        Assert.True(await session.Page.EvaluateAsync<bool>("() => window.__xss === undefined"));
        Assert.DoesNotContain(session.Requests, url => url.EndsWith("/x", StringComparison.Ordinal));
        session.AssertCleanRun();
    }

    [Fact]
    public async Task Conversation_ReloadRegenerateCopyAndNewChat_KeepsAndRestoresIt()
    {
        await using var session = await ChatPageSession.OpenAsync(fixture);
        await session.Page.SelectOptionAsync("#model", BrowserFixture.Gqa);
        await session.SetOptionsAsync(temperature: "0", maxTokens: "16");
        await session.SendAsync(Prompt);
        var reply = await session.WaitForReplyAsync();

        // Kept in the browser: after a reload the conversation, its model and the options are back.
        await session.Page.ReloadAsync();
        await session.Page.Locator("body[data-ready=true]").WaitForAsync();
        Assert.Equal(reply, await session.LastReply.Locator(".text").TextContentAsync());
        Assert.Equal(BrowserFixture.Gqa, await session.Page.InputValueAsync("#model"));
        Assert.Equal("Sending: temperature 0 · max 16 tokens", await session.Page.Locator("#summary").TextContentAsync());
        Assert.Equal(Prompt, await session.Page.Locator("#conversations li.active .open").TextContentAsync());

        // Regenerate replaces the reply; greedy gives the same text again.
        await session.LastReply.Locator(".regenerate").ClickAsync();
        await Assertions.Expect(session.Page.Locator("#stop")).ToBeHiddenAsync();
        Assert.Equal(reply, await session.WaitForReplyAsync());
        Assert.Equal(2, await session.Page.Locator("#messages .message").CountAsync());
        Assert.Equal(2, session.ChatRequests.Count);

        await session.LastReply.Locator(".copy").ClickAsync();
        Assert.Equal(reply, await session.Page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));

        // Shift+Enter is a new line, not a send.
        await session.Page.ClickAsync("#new-chat");
        Assert.Equal(0, await session.Page.Locator("#messages .message").CountAsync());
        await session.Input.FillAsync("one");
        await session.Input.PressAsync("Shift+Enter");
        await session.Input.PressSequentiallyAsync("two");
        Assert.Equal("one\ntwo", await session.Input.InputValueAsync());
        Assert.Equal(2, session.ChatRequests.Count);
        Assert.Equal(1, await session.Page.Locator("#conversations li").CountAsync());
        session.AssertCleanRun();
    }

    [Fact]
    public async Task JsonMode_ObjectFormat_SendsResponseFormatAndTheReplyParses()
    {
        await using var session = await ChatPageSession.OpenAsync(fixture);
        await session.Page.SelectOptionAsync("#model", BrowserFixture.Gqa);
        await session.SetOptionsAsync(temperature: "0");
        await session.Page.SelectOptionAsync("#format", "schema");
        await session.Page.FillAsync("#schema", """{"type":"object","properties":{"name":{"type":"string","maxLength":12}},"required":["name"]}""");

        await session.SendAsync("Tell me a name");
        var reply = await session.WaitForReplyAsync();

        var sent = JsonNode.Parse(Assert.Single(session.ChatRequests))!;
        Assert.Equal("json_schema", sent["response_format"]!["type"]!.GetValue<string>());
        using var parsed = JsonDocument.Parse(reply);
        Assert.Equal(JsonValueKind.String, parsed.RootElement.GetProperty("name").ValueKind);
        session.AssertCleanRun();
    }

    [Theory]
    [InlineData(1280, 800, "desktop")]
    [InlineData(390, 844, "phone")]
    public async Task Layout_Width_KeepsComposerAndPickerOnScreen(int width, int height, string name)
    {
        await using var session = await ChatPageSession.OpenAsync(fixture, width: width, height: height);
        await session.Page.SelectOptionAsync("#model", BrowserFixture.Gqa);
        await session.SetOptionsAsync(temperature: "0", maxTokens: "40");
        await session.Page.ClickAsync("#toggle-settings");
        await session.SendAsync(Prompt);
        await session.WaitForReplyAsync();

        foreach (var selector in new[] { "#input", "#send", "#model", "#toggle-settings" })
        {
            var box = await session.Page.Locator(selector).BoundingBoxAsync();
            Assert.NotNull(box);
            Assert.True(box.X >= 0 && box.Y >= 0 && box.X + box.Width <= width && box.Y + box.Height <= height, $"{selector} is off screen at {width}x{height}: {box.X},{box.Y} {box.Width}x{box.Height}");
        }

        var pageWidth = await session.Page.EvaluateAsync<int>("() => document.documentElement.scrollWidth");
        Assert.True(pageWidth <= width, $"the page scrolls sideways at {width}: {pageWidth}");
        var sidebar = await session.Page.Locator("#sidebar").BoundingBoxAsync();
        Assert.True(width > 700 ? sidebar!.X >= 0 : sidebar!.X + sidebar.Width <= 0, $"sidebar at {sidebar.X}");
        if (Environment.GetEnvironmentVariable("INFERA_SCREENSHOTS") is { Length: > 0 } folder)
        {
            await session.Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, $"chat-page-{name}.png") });
            await session.Page.ClickAsync("#toggle-settings");
            if (width <= 700)
            {
                await session.Page.ClickAsync("#toggle-sidebar");
            }

            await session.Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, $"chat-page-{name}-open.png"), Animations = ScreenshotAnimations.Disabled });
        }

        session.AssertCleanRun();
    }

    private async Task<string> CompleteAsync(string body)
    {
        using var http = new HttpClient { BaseAddress = fixture.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", BrowserFixture.ApiKey);
        using var response = await http.PostAsync("v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.True(response.IsSuccessStatusCode, json.ToJsonString());
        return json["choices"]![0]!["message"]!["content"]!.GetValue<string>();
    }
}
