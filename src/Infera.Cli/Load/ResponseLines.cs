using System.Buffers;

namespace Infera.Cli.Load;

/// <summary>
/// Reads a streamed response body line by line as UTF-8 bytes, without a string per line: a load generator that shares
/// the machine with the server it measures must cost as little as it can per event.
/// </summary>
internal sealed class ResponseLines(Stream stream) : IDisposable
{
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
    private int _start;
    private int _end;

    /// <summary>
    /// Reads the next line without its line ending (<c>\n</c> or <c>\r\n</c>); the bytes stay valid until the next call.
    /// Returns <see langword="null"/> at the end of the body. A last line without a line ending is returned too.
    /// </summary>
    public async ValueTask<ReadOnlyMemory<byte>?> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (TryTakeLine(out var line))
            {
                return line;
            }

            if (_start > 0)
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }

            if (_end == _buffer.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
                _buffer.AsSpan(0, _end).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = larger;
            }

            var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                if (_end > _start)
                {
                    var last = _buffer.AsMemory(_start, _end - _start);
                    _start = _end;
                    return TrimCarriageReturn(last);
                }

                return null;
            }

            _end += read;
        }
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }

    private bool TryTakeLine(out ReadOnlyMemory<byte> line)
    {
        var newline = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
        if (newline < 0)
        {
            line = default;
            return false;
        }

        line = TrimCarriageReturn(_buffer.AsMemory(_start, newline));
        _start += newline + 1;
        return true;
    }

    private static ReadOnlyMemory<byte> TrimCarriageReturn(ReadOnlyMemory<byte> line) =>
        line.Span is [.., (byte)'\r'] ? line[..^1] : line;
}
