using System.Diagnostics.CodeAnalysis;

namespace Infera.Models;

/// <summary>Represents the name of a model in the library: Ollama's <c>[namespace/]model[:tag]</c> convention, where a Hugging Face id (<c>org/name</c>) is a name with a namespace.</summary>
/// <remarks>
/// Names are case-insensitive and stored in lower case. A missing tag means <c>latest</c>. Each part starts with a letter, digit or
/// underscore and continues with letters, digits, <c>_</c>, <c>.</c> and <c>-</c>; up to three parts separated by <c>/</c> (host, namespace, model); a tag has at most 80 characters.
/// </remarks>
public readonly record struct ModelName
{
    /// <summary>The tag a name without one gets.</summary>
    public const string DefaultTag = "latest";

    private ModelName(string repository, string tag)
    {
        Repository = repository;
        Tag = tag;
    }

    /// <summary>Gets the name without its tag, for example <c>qwen/qwen2.5-0.5b-instruct</c>.</summary>
    public string Repository { get; }

    /// <summary>Gets the tag, for example <c>latest</c>.</summary>
    public string Tag { get; }

    /// <summary>Parses a model name.</summary>
    /// <param name="name">The name, for example <c>stories:latest</c>, <c>stories</c> or <c>Qwen/Qwen2.5-0.5B-Instruct</c>.</param>
    /// <returns>The parsed name.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a valid model name; the message says why.</exception>
    public static ModelName Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return TryParse(name, out var result, out var error) ? result : throw new ArgumentException(error, nameof(name));
    }

    /// <summary>Tries to parse a model name.</summary>
    /// <param name="name">The name.</param>
    /// <param name="result">The parsed name when the method returns <see langword="true"/>.</param>
    /// <returns><see langword="true"/> when <paramref name="name"/> is a valid model name.</returns>
    public static bool TryParse([NotNullWhen(true)] string? name, out ModelName result) => TryParse(name, out result, out _);

    /// <summary>Returns <c>repository:tag</c>.</summary>
    /// <returns>The full name.</returns>
    public override string ToString() => Repository is null ? string.Empty : Repository + ":" + Tag;

    internal string[] RepositoryParts => Repository.Split('/');

    internal static bool TryParse(string? name, out ModelName result, out string error)
    {
        result = default;
        if (string.IsNullOrWhiteSpace(name))
        {
            error = "A model name must not be empty.";
            return false;
        }

        var text = name.Trim();
        string tag = DefaultTag;
        int colon = text.LastIndexOf(':');
        if (colon >= 0 && colon > text.LastIndexOf('/'))
        {
            tag = text[(colon + 1)..];
            text = text[..colon];
            if (tag.Length is 0 or > 80 || !IsPart(tag))
            {
                error = $"'{name}' is not a valid model name: the tag after ':' must be 1 to 80 letters, digits, '_', '.' or '-', starting with a letter, digit or '_'.";
                return false;
            }
        }

        var parts = text.Split('/');
        if (parts.Length > 3 || parts.Any(p => p.Length == 0 || p.Length > 96 || !IsPart(p) || p is "." or ".."))
        {
            error = $"'{name}' is not a valid model name: use name[:tag] or org/name[:tag], with letters, digits, '_', '.' and '-' (a part starts with a letter, digit or '_').";
            return false;
        }

        error = string.Empty;
        result = new ModelName(text.ToLowerInvariant(), tag.ToLowerInvariant());
        return true;
    }

    private static bool IsPart(string part)
    {
        if (!(char.IsAsciiLetterOrDigit(part[0]) || part[0] == '_'))
        {
            return false;
        }

        foreach (var c in part)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-'))
            {
                return false;
            }
        }

        return true;
    }
}
