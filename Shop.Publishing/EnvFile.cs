namespace Shop.Publishing;

/// <summary>
/// The <c>KEY=value</c> files the publishers write and read back: compose's <c>.env</c> and the
/// kustomize <c>secrets/*.env</c> and <c>parameters.env</c>. Lines starting with <c>#</c> and lines without a key are skipped;
/// the value is everything after the first <c>=</c>, without its surrounding single quotes.
/// </summary>
public static class EnvFile
{
    /// <summary>Reads a file; a missing file reads as empty.</summary>
    public static Dictionary<string, string> Read(string path) =>
        File.Exists(path) ? Parse(File.ReadAllLines(path)) : new Dictionary<string, string>(StringComparer.Ordinal);

    public static Dictionary<string, string> Parse(IEnumerable<string> lines)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            if (line.TrimStart().StartsWith('#') || line.IndexOf('=') is var eq && eq <= 0)
            {
                continue;
            }
            var value = line[(eq + 1)..];
            if (value.Length >= 2 && value[0] == '\'' && value[^1] == '\'')
            {
                value = value[1..^1];
            }
            values[line[..eq].Trim()] = value;
        }
        return values;
    }

    /// <summary>
    /// A value for a kustomize generator's env file, which takes everything after the first <c>=</c> as it is.
    /// A newline cannot be held; a value in single quotes would lose them when read back (<see cref="Parse"/>).
    /// </summary>
    public static string KustomizeValue(string value) =>
        value.Contains('\n') || value.Length >= 2 && value[0] == '\'' && value[^1] == '\''
            ? throw new InvalidOperationException("A setting's value contains a newline or is in single quotes, which a kustomize env file cannot hold.")
            : value;

    /// <summary>
    /// A value for compose's <c>.env</c>: single-quoted when it holds <c>$</c>, <c>#</c>, a space, <c>"</c>
    /// or <c>\</c>, since compose does not interpolate inside single quotes. A quote or newline cannot be held.
    /// </summary>
    public static string ComposeValue(string value)
    {
        if (value.Contains('\'') || value.Contains('\n'))
        {
            throw new InvalidOperationException("A parameter value contains a quote or newline, which .env cannot hold.");
        }
        return value.Any(c => c is '$' or '#' or ' ' or '"' or '\\') ? $"'{value}'" : value;
    }
}
