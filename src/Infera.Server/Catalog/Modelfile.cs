using System.Text;

namespace Infera.Server;

/// <summary>A parsed Modelfile in Ollama's syntax: <c>FROM</c>, <c>PARAMETER</c>, <c>SYSTEM</c>, <c>TEMPLATE</c>, <c>LICENSE</c>, comments and <c>"""</c> multi-line values.</summary>
internal sealed class Modelfile
{
    private static readonly HashSet<string> KnownParameters = new(StringComparer.Ordinal)
    {
        "temperature", "top_k", "top_p", "min_p", "seed", "num_ctx", "num_predict", "stop", "repeat_penalty",
        "presence_penalty", "frequency_penalty", "repeat_last_n", "num_keep", "typical_p", "num_thread",
    };

    public required string From { get; init; }

    public string? System { get; init; }

    public string? Template { get; init; }

    public string? License { get; init; }

    public IReadOnlyList<KeyValuePair<string, string>> Parameters { get; init; } = [];

    /// <summary>Parses a Modelfile; anything malformed or unsupported throws <see cref="FormatException"/> naming the line.</summary>
    public static Modelfile Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string? from = null, system = null, template = null, license = null;
        var parameters = new List<KeyValuePair<string, string>>();
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var space = line.IndexOfAny([' ', '\t']);
            var instruction = (space < 0 ? line : line[..space]).ToUpperInvariant();
            var rest = space < 0 ? string.Empty : line[(space + 1)..].Trim();
            var number = i + 1;
            switch (instruction)
            {
                case "FROM":
                    from = Required(rest, instruction, number);
                    break;
                case "SYSTEM":
                    system = Value(rest, lines, ref i);
                    break;
                case "TEMPLATE":
                    template = Value(rest, lines, ref i);
                    break;
                case "LICENSE":
                    license = Value(rest, lines, ref i);
                    break;
                case "PARAMETER":
                    var parts = rest.Split((char[])[' ', '\t'], 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    if (parts.Length != 2)
                    {
                        throw new FormatException($"Modelfile line {number}: PARAMETER needs a name and a value.");
                    }

                    var name = parts[0].ToLowerInvariant();
                    if (!KnownParameters.Contains(name))
                    {
                        throw new FormatException($"Modelfile line {number}: unknown parameter '{parts[0]}'. Known: {string.Join(", ", KnownParameters.Order(StringComparer.Ordinal))}.");
                    }

                    parameters.Add(new(name, Unquote(parts[1])));
                    break;
                case "MESSAGE" or "ADAPTER" or "REQUIRES":
                    throw new FormatException($"Modelfile line {number}: {instruction} is not supported.");
                default:
                    throw new FormatException($"Modelfile line {number}: unknown instruction '{instruction}'; use FROM, PARAMETER, SYSTEM, TEMPLATE or LICENSE.");
            }
        }

        return new Modelfile
        {
            From = from ?? throw new FormatException("The Modelfile has no FROM line: name the base model (a model name or a folder)."),
            System = system,
            Template = template,
            License = license,
            Parameters = parameters,
        };
    }

    /// <summary>Writes the Modelfile back as text.</summary>
    public override string ToString()
    {
        var text = new StringBuilder().Append("FROM ").Append(From).Append('\n');
        foreach (var (name, value) in Parameters)
        {
            text.Append("PARAMETER ").Append(name).Append(' ').Append(value.Contains(' ', StringComparison.Ordinal) ? "\"" + value + "\"" : value).Append('\n');
        }

        Append(text, "SYSTEM", System);
        Append(text, "TEMPLATE", Template);
        Append(text, "LICENSE", License);
        return text.ToString();
    }

    private static void Append(StringBuilder text, string instruction, string? value)
    {
        if (value is not null)
        {
            text.Append(instruction).Append(" \"\"\"").Append(value).Append("\"\"\"\n");
        }
    }

    private static string Required(string value, string instruction, int line) =>
        value.Length > 0 ? Unquote(value) : throw new FormatException($"Modelfile line {line}: {instruction} needs a value.");

    private static string Unquote(string value) =>
        value.Length >= 2 && value[0] == '"' && value[^1] == '"' ? value[1..^1] : value;

    // A value is the rest of the line, a "quoted" string, or a """multi-line""" block.
    private static string Value(string rest, string[] lines, ref int index)
    {
        if (!rest.StartsWith("\"\"\"", StringComparison.Ordinal))
        {
            return Unquote(rest);
        }

        var body = rest[3..];
        var end = body.IndexOf("\"\"\"", StringComparison.Ordinal);
        if (end >= 0)
        {
            return body[..end];
        }

        var text = new StringBuilder(body);
        var start = index + 1;
        for (index++; index < lines.Length; index++)
        {
            end = lines[index].IndexOf("\"\"\"", StringComparison.Ordinal);
            text.Append('\n');
            if (end >= 0)
            {
                text.Append(lines[index].AsSpan(0, end));
                return text.ToString().TrimStart('\n');
            }

            text.Append(lines[index]);
        }

        throw new FormatException($"Modelfile line {start}: a \"\"\" block is not closed.");
    }
}
