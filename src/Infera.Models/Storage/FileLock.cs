namespace Infera.Models;

/// <summary>An exclusive lock on a lock file shared by processes (on Unix, .NET takes an <c>flock</c> for <see cref="FileShare.None"/>).</summary>
/// <remarks>Waiting polls with a growing delay, as <c>huggingface_hub</c>'s <c>filelock</c> does; the lock goes with the handle, so a killed process never leaves it held.</remarks>
internal sealed class FileLock : IDisposable
{
    private readonly FileStream _stream;

    private FileLock(FileStream stream) => _stream = stream;

    public static async Task<FileLock> AcquireAsync(string path, Action? onWait, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var delay = TimeSpan.FromMilliseconds(50);
        bool reported = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                return new FileLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None));
            }
            catch (IOException) when (File.Exists(path))
            {
                if (!reported)
                {
                    reported = true;
                    onWait?.Invoke();
                }

                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 1000));
            }
        }
    }

    public void Dispose() => _stream.Dispose();
}
