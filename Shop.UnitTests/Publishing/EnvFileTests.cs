using Shop.Publishing;

namespace Shop.UnitTests.Publishing;

/// <summary>The <c>KEY=value</c> files publishing writes (compose's .env) and reads back on the next publish.</summary>
public sealed class EnvFileTests
{
    [Fact]
    public void Comments_and_lines_without_a_key_are_skipped()
    {
        var values = EnvFile.Parse(["# a comment", "   # indented comment", "", "no equals sign", "=no key", "KEY=value"]);

        Assert.Equal(new Dictionary<string, string> { ["KEY"] = "value" }, values);
    }

    [Fact]
    public void The_value_is_everything_after_the_first_equals_sign()
    {
        var values = EnvFile.Parse(["CONNECTION=Host=db;Password=a=b", " PADDED =x"]);

        Assert.Equal("Host=db;Password=a=b", values["CONNECTION"]);
        Assert.Equal("x", values["PADDED"]);
    }

    [Fact]
    public void An_empty_value_reads_as_empty()
    {
        var values = EnvFile.Parse(["EMPTY=", "QUOTED_EMPTY=''"]);

        Assert.Equal("", values["EMPTY"]);
        Assert.Equal("", values["QUOTED_EMPTY"]);
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("pa$$word", "'pa$$word'")]
    [InlineData("a#b", "'a#b'")]
    [InlineData("two words", "'two words'")]
    [InlineData("say \"hi\"", "'say \"hi\"'")]
    [InlineData("back\\slash", "'back\\slash'")]
    [InlineData("a=b", "a=b")]
    [InlineData("", "")]
    public void Compose_values_are_single_quoted_when_compose_would_read_them_otherwise(string value, string written)
    {
        Assert.Equal(written, EnvFile.ComposeValue("KEY", value));
    }

    [Theory]
    [InlineData("pa$$word")]
    [InlineData("a#b c=d")]
    [InlineData("")]
    public void A_written_value_reads_back_as_itself(string value)
    {
        var values = EnvFile.Parse([$"KEY={EnvFile.ComposeValue("KEY", value)}"]);

        Assert.Equal(value, values["KEY"]);
    }

    /// <summary>
    /// An operator editing .env writes what compose reads: double quotes, a note after the value, stray spaces. Publishing
    /// again must read each value as compose does (each pair checked with docker-compose 1.29's config), or it writes the
    /// quotes or the note into the value: a database password then no longer matches the role's, an admin password changes.
    /// </summary>
    [Theory]
    [InlineData("KEY=\"two words\"", "two words")]
    [InlineData("KEY=\"say \\\"hi\\\" \\\\ back\"", "say \"hi\" \\ back")]
    [InlineData("KEY=\"a # b\"  # a note", "a # b")]
    [InlineData("KEY='a # b'  # a note", "a # b")]
    [InlineData("KEY=value   # rotated 2026-12", "value")]
    [InlineData("KEY=  padded  ", "padded")]
    [InlineData("KEY=a#b", "a#b")]
    public void A_value_reads_as_compose_reads_it(string line, string value)
    {
        Assert.Equal(value, EnvFile.Parse([line])["KEY"]);
    }

    /// <summary>kustomize's env files take the value to the end of the line as it is (checked with kubectl 1.32's kustomize).</summary>
    [Theory]
    [InlineData("KEY=\"quoted\"", "\"quoted\"")]
    [InlineData("KEY=value # not a note", "value # not a note")]
    [InlineData("KEY= padded ", " padded ")]
    [InlineData("KEY='quoted'", "'quoted'")]
    public void A_kustomize_value_reads_as_kustomize_reads_it(string line, string value)
    {
        Assert.Equal(value, EnvFile.ParseKustomize([line])["KEY"]);
    }

    /// <summary>The refusal names the key, so the operator knows which value to change.</summary>
    [Fact]
    public void A_value_with_a_quote_or_newline_is_refused_naming_its_key()
    {
        Assert.Contains("USERS_DB_APP_PASSWORD", Assert.Throws<InvalidOperationException>(() => EnvFile.ComposeValue("USERS_DB_APP_PASSWORD", "it's")).Message);
        Assert.Contains("SHOP_TLS_KEY", Assert.Throws<InvalidOperationException>(() => EnvFile.ComposeValue("SHOP_TLS_KEY", "two\nlines")).Message);
    }
}
