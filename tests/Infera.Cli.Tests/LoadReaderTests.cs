using System.Text;
using System.Text.Json;
using Infera.Cli.Load;

namespace Infera.Tests;

/// <summary>
/// The load generator's readers (<c>infera bench serve</c>): lines split across reads of any size, and the events' text,
/// counts and errors, checked against <see cref="JsonDocument"/>'s reading of the same bytes.
/// </summary>
public sealed class LoadReaderTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4096)]
    public async Task ResponseLines_SplitsLinesAcrossReads_WithAndWithoutCarriageReturns(int bytesPerRead)
    {
        var longLine = new string('x', 40_000);
        var body = $"data: one\r\n\r\ndata: two\n{longLine}\nlast without newline";
        using var lines = new ResponseLines(new TrickleStream(Encoding.UTF8.GetBytes(body), bytesPerRead));

        var read = new List<string>();
        while (await lines.ReadLineAsync(CancellationToken.None) is { } line)
        {
            read.Add(Encoding.UTF8.GetString(line.Span));
        }

        Assert.Equal(["data: one", "", "data: two", longLine, "last without newline"], read);
    }

    [Theory]
    [InlineData("""{"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":" Lily","logprobs":null,"finish_reason":null}],"usage":null}""")]
    [InlineData("""{"choices":[{"text":"a \"quoted\"\nline \u00e9\u4e2d \ud83d\ude00 \\ end","index":0}]}""")]
    [InlineData("""{"choices":[{"index":0,"text":"first"},{"index":1,"text":"second"}],"model":"m"}""")]
    [InlineData("""{"id":"x","choices":[{"index":0,"text":"","finish_reason":"length"}],"usage":{"prompt_tokens":33,"completion_tokens":64,"total_tokens":97}}""")]
    [InlineData("""{"id":"x","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":1,"total_tokens":8,"prompt_tokens_details":{"cached_tokens":0}}}""")]
    [InlineData("""{"error":{"message":"The model is still loading.","type":"server_error","param":null,"code":null}}""")]
    public void Read_CompletionChunk_ReadsWhatJsonDocumentReads(string json)
    {
        var text = new StringBuilder("before|");
        var chunk = StreamedEvent.Read(Encoding.UTF8.GetBytes(json), text);

        var root = JsonDocument.Parse(json).RootElement;
        var expectedText = root.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0
            && choices[0].TryGetProperty("text", out var t) ? t.GetString()! : "";
        Assert.Equal("before|" + expectedText, text.ToString());
        Assert.Equal(expectedText.Length > 0, chunk.HasText);
        var usage = root.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object ? u : default;
        Assert.Equal(usage.ValueKind == JsonValueKind.Object ? usage.GetProperty("prompt_tokens").GetInt32() : null, chunk.PromptTokens);
        Assert.Equal(usage.ValueKind == JsonValueKind.Object ? usage.GetProperty("completion_tokens").GetInt32() : null, chunk.OutputTokens);
        Assert.Equal(root.TryGetProperty("error", out var error) ? error.ToString() : null, chunk.Error);
    }

    [Fact]
    public void Read_CompletionChunk_LongText_IsAppendedWhole()
    {
        var piece = string.Concat(Enumerable.Repeat("ab\\n\\u00e9", 300));
        var text = new StringBuilder();

        var chunk = StreamedEvent.Read(Encoding.UTF8.GetBytes($$"""{"choices":[{"text":"{{piece}}"}]}"""), text);

        Assert.True(chunk.HasText);
        Assert.Equal(string.Concat(Enumerable.Repeat("ab\né", 300)), text.ToString());
    }

    [Theory]
    [InlineData("[1,2]")]
    [InlineData("\"text\"")]
    [InlineData("{\"choices\":[{\"text\":\"cut")]
    public void Read_CompletionChunk_NotOneObject_Throws(string json) =>
        Assert.ThrowsAny<JsonException>(() => StreamedEvent.Read(Encoding.UTF8.GetBytes(json), new StringBuilder()));

    [Fact]
    public void Read_OllamaLine_ReadsResponseDoneAndCounts()
    {
        var text = new StringBuilder();
        var first = StreamedEvent.Read("""{"model":"m","created_at":"2026-12-03T00:00:00Z","response":" Once\n","done":false}"""u8, text);
        Assert.True(first.HasText);
        Assert.False(first.Done);

        var last = StreamedEvent.Read("""{"model":"m","response":"","done":true,"done_reason":"length","context":[1,2,3],"total_duration":5,"prompt_eval_count":12,"eval_count":64}"""u8, text);
        Assert.False(last.HasText);
        Assert.True(last.Done);
        Assert.Equal(12, last.PromptTokens);
        Assert.Equal(64, last.OutputTokens);
        Assert.Equal(" Once\n", text.ToString());

        var failed = StreamedEvent.Read("""{"error":"model 'x' not found"}"""u8, text);
        Assert.Equal("model 'x' not found", failed.Error);
    }

    /// <summary>A read-only stream that hands out at most a few bytes per read.</summary>
    private sealed class TrickleStream(byte[] data, int bytesPerRead) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => data.Length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = Math.Min(Math.Min(bytesPerRead, buffer.Length), data.Length - _position);
            data.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
