using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Infera.Tests;

/// <summary>
/// A minimal HTTP/1.1 server on a loopback socket that stands for an engine whose process dies mid-stream: it answers
/// <c>/health</c> and <c>/v1/models</c> (model <c>tiny</c>; <c>/api/tags</c> too when it speaks Ollama's API), and to a chat completion writes the response headers and the
/// given SSE events (or, to Ollama's <c>/api/chat</c>, the given NDJSON lines), then closes the connection as a killed
/// process's does (FIN, without the final chunk).
/// </summary>
internal sealed class RawBackend : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly string[] _events;
    private readonly string[] _ollamaLines;
    private readonly Task _accepting;
    private int _chats;

    public RawBackend(params string[] events)
        : this(events, [])
    {
    }

    private RawBackend(string[] events, string[] ollamaLines)
    {
        _events = events;
        _ollamaLines = ollamaLines;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>A backend whose <c>/api/chat</c> streams the given NDJSON lines and then dies.</summary>
    public static RawBackend Ollama(params string[] lines) => new([], lines);

    public Uri Url => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");

    public int Chats => Volatile.Read(ref _chats);

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var socket = await _listener.AcceptSocketAsync(_stop.Token);
            _ = Task.Run(() => ServeAsync(socket));
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        using (socket)
        {
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            var (path, _) = await ReadRequestAsync(stream);
            bool ollama = path.StartsWith("/api/chat", StringComparison.Ordinal);
            if (ollama || path.StartsWith("/v1/chat/completions", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _chats);
                var body = new StringBuilder($"HTTP/1.1 200 OK\r\nContent-Type: {(ollama ? "application/x-ndjson" : "text/event-stream")}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
                foreach (var e in ollama ? _ollamaLines : _events)
                {
                    var data = ollama ? e + "\n" : $"data: {e}\n\n";
                    body.Append($"{Encoding.UTF8.GetByteCount(data):x}\r\n{data}\r\n");
                }

                await stream.WriteAsync(Encoding.UTF8.GetBytes(body.ToString()));
                await stream.FlushAsync();
                socket.Shutdown(SocketShutdown.Both);
                return;
            }

            var (status, json) = path switch
            {
                "/health" => ("200 OK", """{"status":"ok"}"""),
                "/v1/models" => ("200 OK", """{"object":"list","data":[{"id":"tiny","object":"model"}]}"""),
                "/api/tags" when _ollamaLines.Length > 0 => ("200 OK", """{"models":[{"name":"tiny:latest","model":"tiny:latest"}]}"""),
                _ => ("404 Not Found", """{"error":"not found"}"""),
            };
            var bytes = Encoding.UTF8.GetBytes(json);
            await stream.WriteAsync(Encoding.UTF8.GetBytes($"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n\r\n"));
            await stream.WriteAsync(bytes);
            await stream.FlushAsync();
            socket.Shutdown(SocketShutdown.Both);
        }
    }

    // Reads the request line, the headers and a Content-Length body.
    private static async Task<(string Path, string Body)> ReadRequestAsync(NetworkStream stream)
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (!(head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
        {
            if (await stream.ReadAsync(one) == 0)
            {
                break;
            }

            head.Add(one[0]);
        }

        var lines = Encoding.ASCII.GetString([.. head]).Split("\r\n");
        var path = lines[0].Split(' ') is { Length: >= 2 } parts ? parts[1] : "/";
        int length = lines.Where(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)).Select(l => int.Parse(l["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();
        var body = new byte[length];
        int read = 0;
        while (read < length && await stream.ReadAsync(body.AsMemory(read)) is > 0 and var n)
        {
            read += n;
        }

        return (path, Encoding.UTF8.GetString(body));
    }
}
