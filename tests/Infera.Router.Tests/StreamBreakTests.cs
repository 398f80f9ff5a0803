using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Infera.Tests;

/// <summary>A backend that breaks a stream off after two events (an in-process Kestrel server standing for a crashed engine).</summary>
public sealed class StreamBreakTests
{
    [Fact]
    public async Task StreamStarted_BackendDies_OneErrorEventAndNoSecondAttempt()
    {
        await using var first = new RawBackend("""{"choices":[{"index":0,"delta":{"content":"Once"}}]}""", """{"choices":[{"index":0,"delta":{"content":" upon"}}]}""");
        await using var second = new RawBackend("""{"choices":[{"index":0,"delta":{"content":"Once"}}]}""", """{"choices":[{"index":0,"delta":{"content":" upon"}}]}""");
        await using var router = await RouterHost.StartAsync([first.Url, second.Url]);
        using var client = Backends.Client(router.Url, key: null);

        var (response, text, events) = await Backends.StreamChatAsync(client, [("user", "Once")]);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(events.Count == 3, string.Join("\n", events));
        Assert.Equal("Once upon", text);
        var error = JsonDocument.Parse(events[2]).RootElement.GetProperty("error");
        Assert.Equal("backend_failed", error.GetProperty("code").GetString());
        Assert.Contains("after the stream started", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, first.Chats + second.Chats);
        Assert.Matches("infera_router_stream_errors_total\\{backend=\"http://127\\.0\\.0\\.1:\\d+\"\\} 1", await client.GetStringAsync("/metrics"));
    }

    [Fact]
    public async Task OllamaStreamStarted_BackendDies_OneErrorLineAndNoSecondAttempt()
    {
        string[] lines =
        [
            """{"model":"tiny","created_at":"2026-12-02T00:00:00Z","message":{"role":"assistant","content":"Once"},"done":false}""",
            """{"model":"tiny","created_at":"2026-12-02T00:00:00Z","message":{"role":"assistant","content":" upon"},"done":false}""",
        ];
        await using var first = RawBackend.Ollama(lines);
        await using var second = RawBackend.Ollama(lines);
        await using var router = await RouterHost.StartAsync([first.Url, second.Url]);
        using var client = Backends.Client(router.Url, key: null);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/chat")
        {
            Content = new StringContent("""{"model":"tiny","messages":[{"role":"user","content":"Once"}],"stream":true}""", Encoding.UTF8, "application/json"),
        };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var received = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        // Ollama's clients read one JSON object per line: the two content lines, then one line with an "error" string.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(received.Length == 3, string.Join("\n", received));
        Assert.Equal("Once upon", string.Concat(received.Take(2).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("message").GetProperty("content").GetString())));
        var error = JsonDocument.Parse(received[2]).RootElement.GetProperty("error");
        Assert.Equal(JsonValueKind.String, error.ValueKind);
        Assert.Contains("after the stream started", error.GetString(), StringComparison.Ordinal);
        Assert.Equal(1, first.Chats + second.Chats);
        Assert.Matches("infera_router_stream_errors_total\\{backend=\"http://127\\.0\\.0\\.1:\\d+\"\\} 1", await client.GetStringAsync("/metrics"));
    }

    [Fact]
    public async Task BackendBusy_429BeforeTheFirstByte_RetriedOnTheOtherBackend()
    {
        int calls = 0;
        await using var backend = await StartBackendAsync(async http =>
        {
            // The first answer is "busy"; the one after it (on the other port) streams.
            if (Interlocked.Increment(ref calls) == 1)
            {
                http.Response.StatusCode = 429;
                await http.Response.WriteAsync("""{"error":{"message":"busy","type":"server_error","param":null,"code":"queue_full"}}""");
                return;
            }

            http.Response.ContentType = "text/event-stream";
            await http.Response.WriteAsync("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"fine\"}}]}\n\ndata: [DONE]\n\n");
        });
        await using var router = await RouterHost.StartAsync([backend.Url, backend.SecondUrl]);
        using var client = Backends.Client(router.Url, key: null);

        var (response, text, events) = await Backends.StreamChatAsync(client, [("user", "Once")]);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("fine", text);
        Assert.Equal("[DONE]", events[^1]);
        Assert.Equal(2, calls);
    }

    private static async Task<FakeBackend> StartBackendAsync(RequestDelegate chat)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0);
            k.Listen(IPAddress.Loopback, 0);
        });
        var app = builder.Build();
        app.MapGet("/health", () => "ok");
        app.MapGet("/v1/models", () => Results.Text("""{"object":"list","data":[{"id":"tiny","object":"model"}]}""", "application/json", Encoding.UTF8));
        app.MapPost("/v1/chat/completions", async http =>
        {
            // Read the whole request first: closing a connection with unread bytes resets it, and a reset drops the answer written before it.
            await new StreamReader(http.Request.Body).ReadToEndAsync();
            await chat(http);
        });
        await app.StartAsync();
        var urls = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a)).ToArray();
        return new FakeBackend(app, urls[0], urls[1]);
    }

    private sealed class FakeBackend(WebApplication app, Uri url, Uri secondUrl) : IAsyncDisposable
    {
        public Uri Url { get; } = url;

        public Uri SecondUrl { get; } = secondUrl;

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
