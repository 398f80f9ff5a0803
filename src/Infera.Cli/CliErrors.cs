namespace Infera.Cli;

/// <summary>Runs a command body and turns every failure into one clear line on stderr and a non-zero exit code, never a stack trace.</summary>
internal static class CliErrors
{
    public const int Failure = 1;
    public const int Cancelled = 130;

    public static async Task<int> RunAsync(Func<CancellationToken, Task<int>> body, CancellationToken cancellationToken)
    {
        try
        {
            return await body(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("infera: cancelled").ConfigureAwait(false);
            return Cancelled;
        }
        catch (Exception ex) when (ex is InferaException or ArgumentException or IOException or UnauthorizedAccessException or InvalidOperationException or NotSupportedException or FormatException)
        {
            await Console.Error.WriteLineAsync("infera: error: " + OneLine(ex.Message)).ConfigureAwait(false);
            return Failure;
        }
    }

    public static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
