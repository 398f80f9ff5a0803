using System.Text.RegularExpressions;

namespace Infera.Server;

/// <summary>
/// Renders the prompt templates that <c>/api/generate</c> requests send (Go templates): <c>{{ .System }}</c>, <c>{{ .Prompt }}</c>,
/// <c>{{ .Response }}</c> (empty: the reply follows) and <c>{{ if .System }}...{{ end }}</c> / <c>{{ if .Prompt }}...{{ end }}</c> blocks.
/// Anything else (ranges over messages, functions) is refused with a message that names it.
/// </summary>
internal static partial class OllamaTemplate
{
    public static string Render(string template, string? system, string prompt)
    {
        var text = IfBlock().Replace(template, match =>
        {
            var present = match.Groups["var"].Value == "System" ? !string.IsNullOrEmpty(system) : !string.IsNullOrEmpty(prompt);
            return present ? match.Groups["body"].Value : match.Groups["else"].Success ? match.Groups["else"].Value : string.Empty;
        });
        text = Variable().Replace(text, match => match.Groups["var"].Value switch
        {
            "System" => system ?? string.Empty,
            "Prompt" => prompt,
            _ => string.Empty,
        });
        if (Action().Match(text) is { Success: true } unsupported)
        {
            throw OpenAIErrorException.BadRequest($"template uses {unsupported.Value}, which Infera does not render: only {{{{ .System }}}}, {{{{ .Prompt }}}}, {{{{ .Response }}}} and {{{{ if .System }}}}/{{{{ if .Prompt }}}} blocks are supported. Leave template out to use the model's chat template, or send raw: true with a formatted prompt.", "template");
        }

        return text;
    }

    [GeneratedRegex(@"\{\{-?\s*if\s+\.(?<var>System|Prompt)\s*-?\}\}(?<body>.*?)(?:\{\{-?\s*else\s*-?\}\}(?<else>.*?))?\{\{-?\s*end\s*-?\}\}", RegexOptions.Singleline)]
    private static partial Regex IfBlock();

    [GeneratedRegex(@"\{\{-?\s*\.(?<var>System|Prompt|Response)\s*-?\}\}")]
    private static partial Regex Variable();

    [GeneratedRegex(@"\{\{.*?\}\}", RegexOptions.Singleline)]
    private static partial Regex Action();
}
