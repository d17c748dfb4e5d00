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

    /// <summary>Checks presence and length (after trimming, in <see cref="Characters"/>) of a required string.</summary>
    public ValidationErrors RequireString(string field, string? value, int maxLength, int minLength = 1)
    {
        if (string.IsNullOrWhiteSpace(value))
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
