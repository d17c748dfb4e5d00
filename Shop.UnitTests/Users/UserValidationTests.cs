using Shop.ServiceDefaults;
using Shop.Users.Apis;

namespace Shop.UnitTests.Users;

/// <summary>The field rules of every Users request (the full-stack suite checks once per endpoint that they reach the client).</summary>
public sealed class UserValidationTests
{
    private const string Good = "longenough";

    private static IEnumerable<string> Fields(ValidationErrors errors) => errors.ToProblem().ProblemDetails.Errors.Keys;

    private static void AssertOnly(string field, ValidationErrors errors) => Assert.Equal([field], Fields(errors));

    public static TheoryData<RegisterRequest, string> BadRegistrations => new()
    {
        { new(null, "a@b.co", Good), "name" },
        { new("", "a@b.co", Good), "name" },
        { new("  ", "a@b.co", Good), "name" },
        { new(new string('n', 101), "a@b.co", Good), "name" },
        { new("A", null, Good), "email" },
        { new("A", "not-an-email", Good), "email" },
        { new("A", "a@localhost", Good), "email" },
        { new("A", "Name <a@b.co>", Good), "email" },
        { new("A", new string('e', 250) + "@x.io", Good), "email" },
        { new("A", "a@b.co", null), "password" },
        { new("A", "a@b.co", ""), "password" },
        { new("A", "a@b.co", "short"), "password" },
        { new("A", "a@b.co", new string('p', 129)), "password" },
    };

    [Theory]
    [MemberData(nameof(BadRegistrations))]
    public void Register_names_the_bad_field(RegisterRequest request, string field) =>
        AssertOnly(field, UserValidation.Register(request));

    // Cases with control characters are facts, not theory rows: a theory prints its values in the test's
    // name, and a NUL or BEL there is not valid XML, which cut the TRX report short.
    [Fact]
    public void Control_characters_are_refused_naming_their_field()
    {
        AssertOnly("name", UserValidation.Register(new("nul\u0000byte", "a@b.co", Good)));
        AssertOnly("email", UserValidation.Register(new("A", "a@b.co\u0007", Good)));
        AssertOnly("email", UserValidation.Login(new("a\u0000@b.co", Good)));
        AssertOnly("name", UserValidation.Update(Update(name: "nul\u0000byte"), true));
    }

    // The rule itself is NameValidationTests' (ServiceDefaults); here, that both the name of a new account and a changed one follow it.
    [Fact]
    public void A_name_that_shows_as_nothing_or_reorders_the_text_after_it_is_refused()
    {
        AssertOnly("name", UserValidation.Register(new("\u200b", "a@b.co", Good)));
        AssertOnly("name", UserValidation.Register(new("Bob\u202enimda", "a@b.co", Good)));
        AssertOnly("name", UserValidation.Update(Update(name: "\u2060"), true));
        AssertOnly("name", UserValidation.Update(Update(name: "x\u2066y"), true));
    }

    // An email that shows as another one (an invisible character, a DNS root dot) was a second account that an admin's
    // user list showed as that account: "admin@shop.local" twice. A fact for the same reason as the one above.
    [Fact]
    public void Emails_that_show_as_another_address_are_refused()
    {
        foreach (var email in new[] { "a@b.co\u200b", "a\u200b@b.co", "a@b.co.", "a@b\u00ad.co", "\u202ea@b.co", "a\u2060@b.co", "\ufeffa@b.co" })
        {
            Assert.True(Fields(UserValidation.Register(new("A", email, Good))).SequenceEqual(["email"]), $"accepted U+{string.Join(" U+", email.Select(c => ((int)c).ToString("X4")))}");
            AssertOnly("email", UserValidation.Update(Update(email: email, currentPassword: Good), true));
        }
    }

    // Homoglyphs: an address with a letter that reads as another one is another account beside it in an admin's user list
    // ("kım@example.com" with a dotless ı beside "kim@example.com"), and the one an admin may give a role to by mistake.
    // Refusing look-alikes one kind at a time (fullwidth, mixed alphabets) let others through, so a new address is ASCII;
    // a sign-in takes any address, so an account from before the rule still signs in.
    [Fact]
    public void A_new_email_must_be_ASCII_and_a_sign_in_takes_any()
    {
        foreach (var email in new[]
        {
            "k\u0131m@example.com", // dotless ı
            "\u212aim@example.com", // the Kelvin sign, which lower-cases to k
            "\uff4bim@example.com", // fullwidth k
            "kim@exampl\uff45.com", // fullwidth e in the domain
            "\u00b5ller@example.com", // the micro sign
            "\ufb01ona@example.com", // the "fi" ligature
            "k\u0456m@example.com", // Cyrillic і among Latin letters
            "\u0430\u0441\u0435@example.com", // "асе", wholly Cyrillic, reads as "ace"
            "jos\u00e9@example.com", "vie\u0302\u0301t@example.com", "kim@\u043f\u0440\u0438\u043c\u0435\u0440.example", "\u540d\u524d@example.com",
        })
        {
            var errors = UserValidation.Register(new("A", email, Good));
            Assert.True(Fields(errors).SequenceEqual(["email"]), $"accepted {Escaped(email)}");
            Assert.Contains("ASCII", errors.ToProblem().ProblemDetails.Errors["email"][0]);
            AssertOnly("email", UserValidation.Update(Update(email: email, currentPassword: Good), true));
            Assert.NotNull(UserValidation.NewEmailProblem(email));
            Assert.True(UserValidation.Login(new(email, Good)).IsValid, $"sign-in refused {Escaped(email)}");
        }
        // An internationalised domain in its ASCII form.
        Assert.True(UserValidation.Register(new("A", "kim@xn--e1afmkfd.xn--p1ai", Good)).IsValid);

        static string Escaped(string email) => string.Concat(email.Select(c => c < 128 ? c.ToString() : $"\\u{(int)c:x4}"));
    }

    [Fact]
    public void Register_reports_every_overlong_field_at_once() =>
        Assert.Equal(["name", "email", "password"],
            Fields(UserValidation.Register(new(new string('n', 101), new string('e', 250) + "@x.io", new string('p', 129)))));

    public static TheoryData<RegisterRequest> GoodRegistrations => new()
    {
        new RegisterRequest("A", "a@b.co", "12345678"),
        new RegisterRequest(new string('n', 100), "  Mixed.Case+tag@Example.COM  ", new string('p', 128)),
        new RegisterRequest("Ünïcode 名前", "o'brien@sub.example.org", "pass word with spaces"),
    };

    [Theory]
    [MemberData(nameof(GoodRegistrations))]
    public void Register_accepts_fields_within_bounds(RegisterRequest request) =>
        Assert.True(UserValidation.Register(request).IsValid);

    [Fact]
    public void A_name_of_100_characters_outside_the_BMP_is_within_bounds_and_an_email_of_them_is_still_checked()
    {
        var emoji = string.Concat(Enumerable.Repeat("😀", 100));
        Assert.True(UserValidation.Register(new(emoji, "a@b.co", Good)).IsValid);
        Assert.True(UserValidation.Update(Update(name: emoji), true).IsValid);
        AssertOnly("name", UserValidation.Register(new(emoji + "😀", "a@b.co", Good)));
        // 130 characters (within 254) but 260 UTF-16 code units, and no address at all: refused for its form.
        AssertOnly("email", UserValidation.Register(new("A", emoji + emoji[..60], Good)));
    }

    // A password's length is in characters (code points, NIST SP 800-63B 5.1.1.2), as typed: four emoji (8 UTF-16 units)
    // passed the minimum of 8, and 100 (200 units) were refused as over 128, at sign-in and as a current password too.
    [Fact]
    public void A_password_is_counted_in_characters_not_UTF16_units()
    {
        static string Keys(int count) => string.Concat(Enumerable.Repeat("🔑", count));
        AssertOnly("password", UserValidation.Register(new("A", "a@b.co", Keys(4))));
        AssertOnly("password", UserValidation.Update(Update(password: Keys(7), currentPassword: Good), true));
        AssertOnly("password", UserValidation.Register(new("A", "a@b.co", Keys(129))));
        AssertOnly("password", UserValidation.Login(new("a@b.co", Keys(129))));
        AssertOnly("current_password", UserValidation.Update(Update(password: Good, currentPassword: Keys(129)), true));
        Assert.True(UserValidation.Register(new("A", "a@b.co", Keys(8))).IsValid);
        Assert.True(UserValidation.Register(new("A", "a@b.co", Keys(128))).IsValid);
        Assert.True(UserValidation.Login(new("a@b.co", Keys(128))).IsValid);
        Assert.True(UserValidation.Update(Update(password: Keys(100), currentPassword: Keys(128)), true).IsValid);
    }

    public static TheoryData<LoginRequest, string> BadLogins => new()
    {
        { new(null, Good), "email" },
        { new("", Good), "email" },
        { new(new string('e', 255), Good), "email" },
        { new("a@b.co", null), "password" },
        { new("a@b.co", ""), "password" },
        { new("a@b.co", new string('p', 129)), "password" },
    };

    [Theory]
    [MemberData(nameof(BadLogins))]
    public void Login_names_the_bad_field(LoginRequest request, string field) =>
        AssertOnly(field, UserValidation.Login(request));

    [Fact]
    public void Login_does_not_judge_the_password_or_email_form_only_presence_and_length()
    {
        Assert.True(UserValidation.Login(new("not-an-email", "short")).IsValid);
        Assert.True(UserValidation.Login(new("a@b.co", new string('p', 128))).IsValid);
    }

    private static UpdateUserRequest Update(string? name = null, string? email = null, string? password = null,
        string? currentPassword = null, string? role = null, bool? isActive = null) => new(name, email, password, currentPassword, role, isActive);

    public static TheoryData<UpdateUserRequest, bool, string> BadUpdates => new()
    {
        { Update(name: ""), true, "name" },
        { Update(name: new string('n', 101)), false, "name" },
        { Update(email: "not-an-email", currentPassword: Good), true, "email" },
        { Update(password: "short", currentPassword: Good), true, "password" },
        { Update(password: new string('p', 129)), false, "password" },
        { Update(email: "new@b.co"), true, "current_password" },
        { Update(password: "new-password"), true, "current_password" },
        { Update(password: "new-password", currentPassword: ""), true, "current_password" },
        { Update(password: "new-password", currentPassword: new string('c', 129)), true, "current_password" },
        { Update(role: "root"), false, "role" },
        { Update(role: "Admin"), false, "role" },
    };

    [Theory]
    [MemberData(nameof(BadUpdates))]
    public void Update_names_the_bad_field(UpdateUserRequest request, bool isSelf, string field) =>
        AssertOnly(field, UserValidation.Update(request, isSelf));

    [Fact]
    public void Only_the_account_itself_needs_its_current_password_to_change_email_or_password()
    {
        Assert.True(UserValidation.Update(Update(email: "new@b.co", password: "new-password"), isSelf: false).IsValid);
        Assert.True(UserValidation.Update(Update(email: "new@b.co", password: "new-password", currentPassword: Good), isSelf: true).IsValid);
        Assert.True(UserValidation.Update(Update(name: "Only a name"), isSelf: true).IsValid);
    }

    [Fact]
    public void Update_with_no_field_it_can_change_is_refused()
    {
        AssertOnly("body", UserValidation.Update(Update(), isSelf: true));
        AssertOnly("body", UserValidation.Update(Update(currentPassword: Good), isSelf: true));
    }

    [Fact]
    public void Update_with_each_known_role_is_valid()
    {
        Assert.True(UserValidation.Update(Update(role: "user", isActive: false), isSelf: false).IsValid);
        Assert.True(UserValidation.Update(Update(role: "admin"), isSelf: false).IsValid);
    }
}
