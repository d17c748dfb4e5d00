using Shop.ServiceDefaults;

namespace Shop.UnitTests.ServiceDefaults;

/// <summary>
/// A maximum length is counted as the database counts it (PostgreSQL's char_length and varchar(n)): in characters,
/// so a character outside the Basic Multilingual Plane (an emoji, 𝔘) counts once, not as its two UTF-16 code units.
/// </summary>
public sealed class ValidationErrorsTests
{
    private static string Emoji(int count) => string.Concat(Enumerable.Repeat("😀", count));

    [Fact]
    public void A_required_string_is_at_most_its_maximum_in_characters()
    {
        Assert.True(new ValidationErrors().RequireString("name", Emoji(100), 100).IsValid);
        Assert.True(new ValidationErrors().RequireString("name", "𝔘" + new string('n', 99), 100).IsValid);
        Assert.False(new ValidationErrors().RequireString("name", Emoji(101), 100).IsValid);
        Assert.False(new ValidationErrors().RequireString("name", Emoji(1), 100, minLength: 2).IsValid);
    }
}
