using System.IO.Pipelines;
using System.Text;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Infera.Server.Tests;

/// <summary>
/// How streamed responses are flushed: one flush per event while the reader keeps up; the events a stream has fallen
/// behind on in one flush, never more than <see cref="StreamFlusher.MaxEvents"/> of them.
/// </summary>
public sealed class StreamFlusherTests
{
    [Fact]
    public async Task EventsNotYetMade_EachEventIsFlushedBeforeWaitingForTheNext()
    {
        var body = new CountingBody();
        var flusher = new StreamFlusher(body.Response, CancellationToken.None);
        var updates = new StepByStep(3);
        await using var enumerator = updates.Updates().GetAsyncEnumerator();

        var more = await enumerator.MoveNextAsync();
        var flushesBeforeEachWait = new List<int>();
        while (more)
        {
            ServerSentEvents.Write(flusher, enumerator.Current, FlusherJson.Default.String);
            var next = flusher.MoveNextAsync(enumerator);
            flushesBeforeEachWait.Add(body.Flushes);
            updates.Release();
            more = await next;
        }

        // Each event was on the wire before the stream waited for the next one.
        Assert.Equal([1, 2, 3], flushesBeforeEachWait);
        Assert.Equal("data: \"0\"\n\ndata: \"1\"\n\ndata: \"2\"\n\n", body.Flushed);
    }

    [Fact]
    public async Task EventsAlreadyMade_GoOutTogether_AtMostMaxEventsPerFlush()
    {
        var body = new CountingBody();
        var flusher = new StreamFlusher(body.Response, CancellationToken.None);
        var count = StreamFlusher.MaxEvents + 8;
        await using var enumerator = AllReady(count).GetAsyncEnumerator();

        var more = await enumerator.MoveNextAsync();
        var written = 0;
        while (more)
        {
            ServerSentEvents.Write(flusher, enumerator.Current, FlusherJson.Default.String);
            written++;
            more = await flusher.MoveNextAsync(enumerator);
        }

        // The first MaxEvents in one flush; the last 8 stay unflushed until the stream's closing write flushes them.
        Assert.Equal(count, written);
        Assert.Equal(1, body.Flushes);
        Assert.Equal(StreamFlusher.MaxEvents, body.FlushedEvents);
        await body.Response.BodyWriter.FlushAsync();
        Assert.Equal(count, body.FlushedEvents);
    }

    private static async IAsyncEnumerable<string> AllReady(int count)
    {
        for (var i = 0; i < count; i++)
        {
            yield return i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        await Task.CompletedTask;
    }

    /// <summary>Updates that each wait for <see cref="Release"/>, as tokens wait for the model's next step.</summary>
    private sealed class StepByStep(int count)
    {
        private readonly SemaphoreSlim _released = new(0);

        public void Release() => _released.Release();

        public async IAsyncEnumerable<string> Updates()
        {
            for (var i = 0; i < count; i++)
            {
                yield return i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await _released.WaitAsync();
            }
        }
    }

    /// <summary>A response body that records what each flush sends.</summary>
    private sealed class CountingBody : IHttpResponseBodyFeature
    {
        private readonly Pipe _pipe = new();
        private readonly StringBuilder _flushed = new();

        public CountingBody()
        {
            var context = new DefaultHttpContext();
            context.Features.Set<IHttpResponseBodyFeature>(this);
            Response = context.Response;
            Writer = new FlushCountingWriter(this, _pipe.Writer);
        }

        public HttpResponse Response { get; }

        public int Flushes { get; private set; }

        public string Flushed => _flushed.ToString();

        public int FlushedEvents => Flushed.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Length;

        public Stream Stream => throw new NotSupportedException();

        public PipeWriter Writer { get; }

        public Task CompleteAsync() => Task.CompletedTask;

        public void DisableBuffering()
        {
        }

        public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

        private void OnFlushed()
        {
            Flushes++;
            while (_pipe.Reader.TryRead(out var result) && !result.Buffer.IsEmpty)
            {
                _flushed.Append(Encoding.UTF8.GetString(result.Buffer));
                _pipe.Reader.AdvanceTo(result.Buffer.End);
            }
        }

        private sealed class FlushCountingWriter(CountingBody body, PipeWriter inner) : PipeWriter
        {
            public override void Advance(int bytes) => inner.Advance(bytes);

            public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

            public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

            public override void CancelPendingFlush() => inner.CancelPendingFlush();

            public override void Complete(Exception? exception = null) => inner.Complete(exception);

            public override async ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
            {
                var result = await inner.FlushAsync(cancellationToken);
                body.OnFlushed();
                return result;
            }
        }
    }
}

[JsonSerializable(typeof(string))]
internal sealed partial class FlusherJson : JsonSerializerContext;
