using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Infera.Models;

/// <summary>Represents an Ollama-style Modelfile: <c>FROM</c>, <c>PARAMETER</c>, <c>SYSTEM</c>, <c>TEMPLATE</c> (a Jinja chat template) and <c>LICENSE</c>.</summary>
/// <remarks>
/// The syntax is Ollama's: one instruction per line, case-insensitive, <c>#</c> comments, values quoted with <c>"</c> or, across
/// lines, with <c>"""</c>. <c>TEMPLATE</c> must be a Jinja template (the format of <c>tokenizer_config.json</c>'s <c>chat_template</c>);
/// Ollama's Go templates (<c>{{ .Prompt }}</c>, <c>{{ range .Messages }}</c>) are refused with a message saying so. <c>ADAPTER</c> and
/// <c>MESSAGE</c> are refused too.
/// </remarks>
public sealed partial class Modelfile
{
    /// <summary>Gets or sets the model this one starts from: a library name, a model folder or a GGUF file.</summary>
    public string? From { get; set; }

    /// <summary>Gets the generation defaults.</summary>
    public ModelParameters Parameters { get; init; } = new();

    /// <summary>Gets or sets the default system message, used when a conversation has none.</summary>
    public string? System { get; set; }

    /// <summary>Gets or sets the chat template (Jinja) that replaces the model's own.</summary>
    public string? Template { get; set; }

    /// <summary>Gets or sets the licence text.</summary>
    public string? License { get; set; }

    /// <summary>Parses Modelfile text.</summary>
    /// <param name="text">The Modelfile.</param>
    /// <returns>The parsed Modelfile.</returns>
    /// <exception cref="ModelLibraryException">The text is not a valid Modelfile; the message names the line and the problem.</exception>
    public static Modelfile Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = new Modelfile();
        var lines = text.ReplaceLineEndings("\n").Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            int lineNumber = i + 1;
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            int space = line.IndexOfAny([' ', '\t']);
            var instruction = (space < 0 ? line : line[..space]).ToUpperInvariant();
            var rest = space < 0 ? string.Empty : line[(space + 1)..].TrimStart();
            switch (instruction)
            {
                case "FROM":
                    result.From = Required(ReadValue(rest, lines, ref i, lineNumber), instruction, lineNumber);
                    break;
                case "SYSTEM":
                    result.System = ReadValue(rest, lines, ref i, lineNumber);
                    break;
                case "TEMPLATE":
                    var template = ReadValue(rest, lines, ref i, lineNumber);
                    ValidateTemplate(template, lineNumber);
                    result.Template = template;
                    break;
                case "LICENSE":
                    var license = ReadValue(rest, lines, ref i, lineNumber);
                    result.License = result.License is null ? license : result.License + "\n\n" + license;
                    break;
                case "PARAMETER":
                    int split = rest.IndexOfAny([' ', '\t']);
                    if (split < 0)
                    {
                        throw Error(lineNumber, "PARAMETER needs a name and a value, for example 'PARAMETER temperature 0.7'.");
                    }

                    SetParameter(result.Parameters, rest[..split].ToLowerInvariant(), ReadValue(rest[(split + 1)..].TrimStart(), lines, ref i, lineNumber), lineNumber);
                    break;
                case "ADAPTER":
                    throw Error(lineNumber, "ADAPTER (LoRA adapters) is not supported.");
                case "MESSAGE":
                    throw Error(lineNumber, "MESSAGE is not supported; put example turns into SYSTEM or the TEMPLATE.");
                default:
                    throw Error(lineNumber, $"unknown instruction '{instruction}'; expected FROM, PARAMETER, SYSTEM, TEMPLATE or LICENSE.");
            }
        }

        return result;
    }

    /// <summary>Returns the Modelfile text (what <c>infera show --modelfile</c> prints).</summary>
    /// <returns>The Modelfile text; parsing it gives an equal Modelfile.</returns>
    public override string ToString()
    {
        var builder = new StringBuilder();
        if (From is not null)
        {
            builder.Append("FROM ").Append(From).Append('\n');
        }

        if (Template is not null)
        {
            builder.Append("TEMPLATE ").Append(Quote(Template)).Append('\n');
        }

        if (System is not null)
        {
            builder.Append("SYSTEM ").Append(Quote(System)).Append('\n');
        }

        var p = Parameters;
        AppendParameter(builder, "temperature", p.Temperature);
        AppendParameter(builder, "top_k", p.TopK);
        AppendParameter(builder, "top_p", p.TopP);
        AppendParameter(builder, "min_p", p.MinP);
        AppendParameter(builder, "seed", p.Seed);
        AppendParameter(builder, "num_ctx", p.ContextLength);
        AppendParameter(builder, "num_predict", p.MaxOutputTokens);
        AppendParameter(builder, "repeat_penalty", p.RepeatPenalty);
        foreach (var stop in p.Stop)
        {
            builder.Append("PARAMETER stop ").Append(Quote(stop)).Append('\n');
        }

        if (License is not null)
        {
            builder.Append("LICENSE ").Append(Quote(License)).Append('\n');
        }

        return builder.ToString();
    }

    internal static void ValidateTemplate(string template, int lineNumber)
    {
        if (GoTemplateAction().IsMatch(template))
        {
            throw Error(lineNumber, "TEMPLATE is an Ollama Go template ({{ .Prompt }}, {{ range .Messages }}, ...), which Infera does not run; give a Jinja chat template instead (the chat_template of the model's tokenizer_config.json, e.g. {% for message in messages %}...{% endfor %}).");
        }
    }

    private static void SetParameter(ModelParameters parameters, string name, string value, int line)
    {
        switch (name)
        {
            case "temperature":
                parameters.Temperature = ParseFloat(name, value, line, 0, 100);
                break;
            case "top_k":
                parameters.TopK = ParseInt(name, value, line, 0);
                break;
            case "top_p":
                parameters.TopP = ParseFloat(name, value, line, 0, 1);
                break;
            case "min_p":
                parameters.MinP = ParseFloat(name, value, line, 0, 1);
                break;
            case "seed":
                parameters.Seed = ParseInt(name, value, line, int.MinValue);
                break;
            case "num_ctx":
                parameters.ContextLength = ParseInt(name, value, line, 1);
                break;
            case "num_predict":
                int predict = ParseInt(name, value, line, -2);
                parameters.MaxOutputTokens = predict < 0 ? null : predict;
                break;
            case "repeat_penalty":
                parameters.RepeatPenalty = ParseFloat(name, value, line, 0, 100);
                break;
            case "stop":
                if (value.Length == 0)
                {
                    throw Error(line, "PARAMETER stop needs a non-empty stop sequence.");
                }

                parameters.Stop.Add(value);
                break;
            default:
                throw Error(line, $"unknown parameter '{name}'; supported: temperature, top_k, top_p, min_p, seed, num_ctx, num_predict, stop, repeat_penalty.");
        }
    }

    private static float ParseFloat(string name, string value, int line, float min, float max) =>
        float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var result) && float.IsFinite(result) && result >= min && result <= max
            ? result
            : throw Error(line, $"PARAMETER {name} must be a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}; got '{value}'.");

    private static int ParseInt(string name, string value, int line, int min) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var result) && result >= min
            ? result
            : throw Error(line, $"PARAMETER {name} must be an integer{(min > int.MinValue ? " of at least " + min.ToString(CultureInfo.InvariantCulture) : string.Empty)}; got '{value}'.");

    private static string ReadValue(string rest, string[] lines, ref int index, int lineNumber)
    {
        if (rest.StartsWith("\"\"\"", StringComparison.Ordinal))
        {
            var body = rest[3..];
            int end = body.IndexOf("\"\"\"", StringComparison.Ordinal);
            if (end >= 0)
            {
                return body[..end];
            }

            var builder = new StringBuilder(body);
            while (++index < lines.Length)
            {
                builder.Append('\n');
                end = lines[index].IndexOf("\"\"\"", StringComparison.Ordinal);
                if (end >= 0)
                {
                    builder.Append(lines[index].AsSpan(0, end));
                    return builder.ToString();
                }

                builder.Append(lines[index]);
            }

            throw Error(lineNumber, "a value opened with \"\"\" is never closed.");
        }

        if (rest.Length >= 2 && rest[0] == '"' && rest[^1] == '"')
        {
            return rest[1..^1].Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);
        }

        return rest.Trim();
    }

    private static string Required(string value, string instruction, int line) =>
        value.Length > 0 ? value : throw Error(line, instruction + " needs a value.");

    private static string Quote(string value) =>
        value.Contains('\n', StringComparison.Ordinal) || value.Contains('"', StringComparison.Ordinal) || value != value.Trim() || value.Length == 0
            ? "\"\"\"" + value + "\"\"\""
            : value;

    private static void AppendParameter<T>(StringBuilder builder, string name, T? value)
        where T : struct, IFormattable
    {
        if (value is { } v)
        {
            builder.Append("PARAMETER ").Append(name).Append(' ').Append(v.ToString(null, CultureInfo.InvariantCulture)).Append('\n');
        }
    }

    private static ModelLibraryException Error(int line, string message) =>
        new(string.Create(CultureInfo.InvariantCulture, $"Modelfile line {line}: {message}"));

    // Go template actions: {{ .Field }}, {{- range ... }}, {{ if .X }}, {{ end }}, {{ else }}, {{ template "x" }}; Jinja has none of these.
    [GeneratedRegex(@"\{\{-?\s*(\.|\$|range\b|if\s|end\s*-?\}\}|else\s*-?\}\}|template\s|block\s|define\s|with\s)", RegexOptions.CultureInvariant)]
    private static partial Regex GoTemplateAction();
}
