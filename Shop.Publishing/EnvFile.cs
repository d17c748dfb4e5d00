using System.Text;

namespace Shop.Publishing;

/// <summary>
/// The <c>KEY=value</c> files the publishers write and read back: compose's <c>.env</c> (<see cref="Read"/>, read as
/// compose reads it) and the kustomize <c>secrets/*.env</c> and <c>parameters.env</c> (<see cref="ReadKustomize"/>).
/// In both, lines starting with <c>#</c> and lines without a key are skipped.
/// </summary>
public static class EnvFile
{
    /// <summary>Reads a compose <c>.env</c>; a missing file reads as empty.</summary>
    public static Dictionary<string, string> Read(string path) =>
        File.Exists(path) ? Parse(File.ReadAllLines(path)) : new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// A compose <c>.env</c>'s values as compose takes them (docker-compose 1.29 and Compose v2 alike), so a value
    /// the operator edited there is the one published again: in single quotes, as it is; in double quotes, with
    /// <c>\"</c> and <c>\\</c> unescaped; unquoted, trimmed and without a note after <c> #</c>. Anything after a
    /// closing quote is ignored.
    /// </summary>
    public static Dictionary<string, string> Parse(IEnumerable<string> lines) => Parse(lines, ComposeText);

    /// <summary>Reads a kustomize env file; a missing file reads as empty.</summary>
    public static Dictionary<string, string> ReadKustomize(string path) =>
        File.Exists(path) ? ParseKustomize(File.ReadAllLines(path)) : new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// A kustomize env file's values: everything after the first <c>=</c>, as kustomize takes it (quotes included:
    /// <c>'abc'</c> gives the pods <c>'abc'</c>), so publishing again writes back what the pods have.
    /// </summary>
    public static Dictionary<string, string> ParseKustomize(IEnumerable<string> lines) => Parse(lines, value => value);

    private static Dictionary<string, string> Parse(IEnumerable<string> lines, Func<string, string> valueOf)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            if (line.TrimStart().StartsWith('#') || line.IndexOf('=') is var eq && eq <= 0)
            {
                continue;
            }
            values[line[..eq].Trim()] = valueOf(line[(eq + 1)..]);
        }
        return values;
    }

    private static string ComposeText(string raw)
    {
        var text = raw.TrimStart();
        if (text.StartsWith('\'') && text.IndexOf('\'', 1) is var end and > 0)
        {
            return text[1..end];
        }
        if (text.StartsWith('"'))
        {
            var value = new StringBuilder();
            for (var i = 1; i < text.Length; i++)
            {
                if (text[i] == '\\' && i + 1 < text.Length && text[i + 1] is '"' or '\\')
                {
                    value.Append(text[++i]);
                }
                else if (text[i] == '"')
                {
                    return value.ToString();
                }
                else
                {
                    value.Append(text[i]);
                }
            }
            // No closing quote: read as unquoted, below.
        }
        for (var i = 1; i < text.Length; i++)
        {
            if (text[i] == '#' && char.IsWhiteSpace(text[i - 1]))
            {
                return text[..i].TrimEnd();
            }
        }
        return text.TrimEnd();
    }

    /// <summary>
    /// A value for a kustomize generator's env file, which takes everything after the first <c>=</c> as it is.
    /// A newline cannot be held. A parameter's value never brings one (the publish refused it before writing anything,
    /// <see cref="PublishConventions.HoldsControlCharacter"/>); a service's literal settings are not parameters, and
    /// this is their only check.
    /// </summary>
    public static string KustomizeValue(string value) =>
        value.Contains('\n')
            ? throw new InvalidOperationException("A setting's value contains a newline, which a kustomize env file cannot hold.")
            : value;

    /// <summary>
    /// A value for compose's <c>.env</c>: single-quoted when it holds <c>$</c>, <c>#</c>, a space or tab, <c>"</c>
    /// or <c>\</c>, since compose does not interpolate inside single quotes (nor trim, nor see a note there). A quote or newline cannot be held;
    /// the refusal names <paramref name="key"/>. A parameter's value never brings a newline (the publish refused it before writing anything,
    /// <see cref="PublishConventions.HoldsControlCharacter"/>); the TLS certificate and key paths are options, not parameters,
    /// and this is their only check.
    /// </summary>
    public static string ComposeValue(string key, string value)
    {
        if (value.Contains('\'') || value.Contains('\n'))
        {
            throw new InvalidOperationException($"The value of {key} contains a ' or a newline, which .env cannot hold: choose another value for it.");
        }
        return value.Any(c => c is '$' or '#' or ' ' or '\t' or '"' or '\\') ? $"'{value}'" : value;
    }
}
