using Shop.ServiceDefaults;

namespace Shop.UnitTests.ServiceDefaults;

/// <summary>
/// A name is shown to others (a shopper's in an admin's user list, an item's in the catalogue): one made of characters
/// that show as nothing is as missing as an empty one, and one with a direction override or isolate makes the text
/// after it read in another order (Trojan Source, CVE-2021-42574). Characters real names need are kept.
/// </summary>
public sealed class NameValidationTests
{
    // Facts, not theory rows: a theory prints its values in the test's name, and these do not read as what they are.
    [Fact]
    public void A_name_of_only_invisible_characters_is_missing()
    {
        foreach (var name in new[] { "\u200b", "\u2060\ufeff", " \u00ad ", "\u200d\u200c", "\u180e", "\u3164\u2800", "\U000E0041\U000E0042" })
        {
            var errors = new ValidationErrors().RequireName("name", name, 100);
            Assert.False(errors.IsValid, $"accepted U+{string.Join(" U+", name.Select(c => ((int)c).ToString("X4")))}");
        }
    }

    [Fact]
    public void A_name_with_a_direction_override_or_isolate_is_refused()
    {
        foreach (var name in new[] { "Bob\u202enimda", "\u202aA", "\u202bA", "\u202cA", "\u202dA", "x\u2066y", "x\u2067y", "x\u2068y", "x\u2069y" })
        {
            var errors = new ValidationErrors().RequireName("name", name, 100);
            Assert.False(errors.IsValid, $"accepted U+{string.Join(" U+", name.Select(c => ((int)c).ToString("X4")))}");
        }
    }

    [Fact]
    public void Names_with_the_joiners_and_marks_real_names_need_are_taken()
    {
        // Persian needs the zero-width non-joiner, emoji sequences the joiner; a direction mark has no scope to leak.
        foreach (var name in new[] { "Zoë", "می\u200cخواهم", "👩\u200d💻 Dev", "abc\u200f 123", "O'Brien-Smith" })
        {
            Assert.True(new ValidationErrors().RequireName("name", name, 100).IsValid, name);
        }
    }
}
