using System.Text;
using System.Text.RegularExpressions;

namespace Infera.Models;

/// <summary>Matches repository paths against a glob: <c>**</c> any folders, <c>*</c> any characters but <c>/</c>, <c>?</c> one character. A pattern without <c>/</c> that names a folder matches everything under it.</summary>
internal sealed class Glob
{
    private readonly Regex _regex;

    public Glob(string pattern)
    {
        var text = pattern.Trim().TrimStart('/').Replace('\\', '/');
        var builder = new StringBuilder("^");
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '*' && i + 1 < text.Length && text[i + 1] == '*')
            {
                builder.Append(".*");
                i++;
                if (i + 1 < text.Length && text[i + 1] == '/')
                {
                    i++;
                    builder.Append("/?");
                }
            }
            else
            {
                builder.Append(c switch { '*' => "[^/]*", '?' => "[^/]", _ => Regex.Escape(c.ToString()) });
            }
        }

        // "folder" and "folder/" also match the files below it.
        builder.Append("(/.*)?$");
        _regex = new Regex(builder.ToString(), RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);
    }

    public bool IsMatch(string path) => _regex.IsMatch(path);
}
