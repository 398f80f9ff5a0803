using System.CommandLine;
using System.Globalization;
using Infera.Models;

namespace Infera.Cli.Commands;

/// <summary><c>infera list</c>: the models in the library.</summary>
internal static class ListCommand
{
    internal static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print a JSON array." };
        var command = new Command("list", "List the models in the library (INFERA_HOME, default ~/.cache/infera).");
        command.Aliases.Add("ls");
        command.Options.Add(json);
        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async ct =>
        {
            using var library = new ModelLibrary();
            var models = await library.ListAsync(ct).ConfigureAwait(false);
            if (result.GetValue(json))
            {
                await Console.Out.WriteLineAsync(CliJson.Serialize(models.Select(ShowCommand.Summary).ToArray(), CliJson.Indented)).ConfigureAwait(false);
                return 0;
            }

            var rows = models.Select(m => new[]
            {
                m.Name,
                m.Digest["sha256:".Length..][..12],
                PullProgressPrinter.FormatSize(m.Size),
                m.Manifest.Precision ?? "-",
                m.Manifest.Source.Repository ?? m.Manifest.Source.From ?? "-",
                m.ModifiedAt.ToLocalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
            }).Prepend(["NAME", "ID", "SIZE", "PRECISION", "SOURCE", "MODIFIED"]).ToList();
            var widths = Enumerable.Range(0, 6).Select(i => rows.Max(r => r[i].Length)).ToArray();
            foreach (var row in rows)
            {
                await Console.Out.WriteLineAsync(string.Join("   ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i])))).ConfigureAwait(false);
            }

            return 0;
        }, cancellationToken));
        return command;
    }
}
