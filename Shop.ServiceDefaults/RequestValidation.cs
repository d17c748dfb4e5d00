using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Shop.ServiceDefaults;

/// <summary>Collects field errors for a 400 validation problem (<c>errors: { field: [messages] }</c>).</summary>
public sealed class ValidationErrors
{
    private readonly Dictionary<string, List<string>> _errors = [];

    public bool IsValid => _errors.Count == 0;

    public ValidationErrors Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list))
        {
            _errors[field] = list = [];
        }
        list.Add(message);
        return this;
    }

    /// <summary>
    /// Checks presence and length (after trimming, in <see cref="Characters"/>) of a required string. A value of only
    /// characters that show as nothing (spaces, zero-width spaces and joiners, Hangul fillers) is missing: shown, it
    /// is as blank as an empty one.
    /// </summary>
    public ValidationErrors RequireString(string field, string? value, int maxLength, int minLength = 1)
    {
        if (value is null || !value.EnumerateRunes().Any(Shows))
        {
            return Add(field, "This field is required.");
        }
        var length = Characters(value.Trim());
        if (length < minLength || length > maxLength)
        {
            Add(field, minLength > 1 ? $"Must be {minLength} to {maxLength} characters." : $"Must be at most {maxLength} characters.");
        }
        return RejectControlCharacters(field, value);
    }

    /// <summary>
    /// <see cref="RequireString"/> for a name others read (a shopper's in an admin's user list, an item's in the
    /// catalogue), which also refuses the direction overrides, embeddings and isolates: each makes the text after it
    /// read in another order (Trojan Source, CVE-2021-42574), so "Bob" + U+202E + "nimda" shows as "Bobadmin". The
    /// joiners and direction marks that real names and emoji need are kept.
    /// </summary>
    public ValidationErrors RequireName(string field, string? value, int maxLength)
    {
        RequireString(field, value, maxLength);
        if (value is not null && value.Any(c => c is >= '\u202a' and <= '\u202e' or >= '\u2066' and <= '\u2069'))
        {
            Add(field, "Must not contain direction overrides, embeddings or isolates (U+202A to U+202E, U+2066 to U+2069): they make the text after them read in another order. Remove them.");
        }
        return this;
    }

    /// <summary>
    /// Whether a character shows as something: not a space, a control, a format character (zero-width space or joiner,
    /// soft hyphen, BOM, and the tag characters beyond the BMP, which is why it takes runes) or a blank filler letter.
    /// </summary>
    private static bool Shows(System.Text.Rune c) =>
        !System.Text.Rune.IsWhiteSpace(c) && !System.Text.Rune.IsControl(c) && c.Value is not (0x115f or 0x1160 or 0x3164 or 0xffa0 or 0x2800)
        && System.Text.Rune.GetUnicodeCategory(c) != System.Globalization.UnicodeCategory.Format;

    /// <summary>
    /// A text's length as the databases count it (PostgreSQL's char_length and varchar(n)): in Unicode characters, so
    /// an emoji counts once, where <see cref="string.Length"/> counts its two UTF-16 code units.
    /// </summary>
    public static int Characters(string value)
    {
        var count = 0;
        foreach (var _ in value.EnumerateRunes())
        {
            count++;
        }
        return count;
    }

    /// <summary>
    /// Control characters have no place in names, emails or URLs, and PostgreSQL cannot store NUL at
    /// all: refused at the edge rather than failing in the database.
    /// </summary>
    public ValidationErrors RejectControlCharacters(string field, string? value)
    {
        if (value is not null && value.Any(char.IsControl))
        {
            Add(field, "Must not contain control characters.");
        }
        return this;
    }

    public ValidationProblem ToProblem() => TypedResults.ValidationProblem(
        _errors.ToDictionary(e => e.Key, e => e.Value.ToArray()),
        detail: Describe(_errors.Select(e => (e.Key, e.Value[0]))),
        title: "One or more fields are invalid.");

    /// <summary>The errors in one sentence for <c>detail</c>: which fields, what is wrong, what to do.</summary>
    public static string Describe(IEnumerable<(string Field, string Message)> errors)
    {
        var list = errors.ToList();
        var shown = string.Join("; ", list.Take(3).Select(e => $"'{e.Field}': {e.Message.TrimEnd('.')}"));
        var more = list.Count > 3 ? $" (and {list.Count - 3} more, see 'errors')" : "";
        return $"{(list.Count == 1 ? "A field is" : $"{list.Count} fields are")} invalid — {shown}{more}. Correct {(list.Count == 1 ? "it" : "them")} and send the request again.";
    }
}
