using System.CommandLine;
using System.Globalization;
using Infera.Models;

namespace Infera.Cli.Commands;

/// <summary><c>infera show NAME</c>: architecture, parameters, precision, context, chat template, licence, source and defaults of a library model.</summary>
internal static class ShowCommand
{

    internal static Command Create()
    {
        var name = new Argument<string>("name") { Description = "The library name (name:tag or org/name)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object, with the manifest." };
        var modelfile = new Option<bool>("--modelfile") { Description = "Print the model's Modelfile." };
        var command = new Command("show", "Show a library model: architecture, parameters, precision, context, chat template, licence, source.");
        command.Arguments.Add(name);
        command.Options.Add(json);
        command.Options.Add(modelfile);
        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async ct =>
        {
            using var library = new ModelLibrary();
            var model = await library.ShowAsync(result.GetValue(name)!, ct).ConfigureAwait(false);
            var m = model.Manifest;
            if (result.GetValue(modelfile))
            {
                await Console.Out.WriteLineAsync($"# Modelfile of {model.Name}").ConfigureAwait(false);
                if (m.Source.Repository is not null)
                {
                    await Console.Out.WriteLineAsync($"# source: {m.Source.Repository}@{m.Source.Commit} ({m.Source.Format})").ConfigureAwait(false);
                }

                await Console.Out.WriteAsync(model.ToModelfile().ToString()).ConfigureAwait(false);
                return 0;
            }

            if (result.GetValue(json))
            {
                var document = Summary(model);
                document["chatTemplate"] = model.ChatTemplate;
                document["manifest"] = m;
                await Console.Out.WriteLineAsync(CliJson.Serialize(document, CliJson.Indented)).ConfigureAwait(false);
                return 0;
            }

            var lines = new List<(string, string?)>
            {
                ("name", model.Name),
                ("architecture", m.Architecture),
                ("parameters", m.ParameterCount is { } count ? FormatCount(count) : null),
                ("precision", m.Precision),
                ("context length", m.ContextLength?.ToString(CultureInfo.InvariantCulture)),
                ("size", PullProgressPrinter.FormatSize(model.Size)),
                ("source", m.Source.Repository is { } repo ? $"{m.Source.Endpoint}/{repo} @ {m.Source.Commit} ({m.Source.Format}{(m.Source.Subfolder is null ? string.Empty : ", " + m.Source.Subfolder)})" : m.Source.From),
                ("license", m.License is { } license ? FirstLine(license) : null),
                ("folder", model.ModelDirectory),
                ("digest", model.Digest),
            };
            foreach (var (label, value) in lines.Where(l => l.Item2 is not null))
            {
                await Console.Out.WriteLineAsync($"  {label,-16}{value}").ConfigureAwait(false);
            }

            if (m.Parameters is { IsEmpty: false } p)
            {
                await Console.Out.WriteLineAsync("  parameters (Modelfile)").ConfigureAwait(false);
                foreach (var line in new Modelfile { Parameters = p }.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    await Console.Out.WriteLineAsync("    " + line["PARAMETER ".Length..]).ConfigureAwait(false);
                }
            }

            if (m.System is { } system)
            {
                await Console.Out.WriteLineAsync($"  system          {FirstLine(system)}").ConfigureAwait(false);
            }

            await Console.Out.WriteLineAsync(model.ChatTemplate is { } template
                ? $"  chat template   {(m.Template is null ? "the model's" : "the Modelfile's")} ({template.Length} characters; --json prints it)"
                : "  chat template   none (plain prompts)").ConfigureAwait(false);
            return 0;
        }, cancellationToken));
        return command;
    }

    internal static Dictionary<string, object?> Summary(ModelInfo model) => new()
    {
        ["name"] = model.Name,
        ["digest"] = model.Digest,
        ["size"] = model.Size,
        ["modifiedAt"] = model.ModifiedAt,
        ["folder"] = model.ModelDirectory,
        ["precision"] = model.Manifest.Precision,
        ["architecture"] = model.Manifest.Architecture,
        ["parameterCount"] = model.Manifest.ParameterCount,
        ["contextLength"] = model.Manifest.ContextLength,
        ["source"] = model.Manifest.Source.Repository ?? model.Manifest.Source.From,
        ["commit"] = model.Manifest.Source.Commit,
        ["license"] = model.Manifest.License,
    };

    private static string FirstLine(string text)
    {
        var line = text.Trim().Split('\n')[0].Trim();
        return line.Length > 100 ? line[..97] + "..." : line;
    }

    private static string FormatCount(long count) => count switch
    {
        >= 1_000_000_000 => string.Create(CultureInfo.InvariantCulture, $"{count / 1e9:0.##}B"),
        >= 1_000_000 => string.Create(CultureInfo.InvariantCulture, $"{count / 1e6:0.##}M"),
        >= 1_000 => string.Create(CultureInfo.InvariantCulture, $"{count / 1e3:0.##}K"),
        _ => count.ToString(CultureInfo.InvariantCulture),
    };
}
