using System.Security.Cryptography;
using Shop.Users.Services;

namespace Shop.UnitTests.Users;

/// <summary>The settings Users refuses at start, each naming itself.</summary>
public sealed class UsersOptionsCheckTests
{
    private static string NewKey(ECCurve curve)
    {
        using var key = ECDsa.Create(curve);
        return Convert.ToBase64String(key.ExportPkcs8PrivateKey());
    }

    private static IEnumerable<string> JwtFailures(JwtOptions options, bool signingKeyRequired = true) =>
        new JwtOptionsCheck(signingKeyRequired).Validate(null, options).Failures ?? [];

    [Fact]
    public void The_defaults_with_a_p256_key_pass()
    {
        Assert.Empty(JwtFailures(new JwtOptions { SigningKey = NewKey(ECCurve.NamedCurves.nistP256), PreviousSigningKey = NewKey(ECCurve.NamedCurves.nistP256) }));
        Assert.Empty(JwtFailures(new JwtOptions(), signingKeyRequired: false));
    }

    [Fact]
    public void Each_lifetime_mistake_names_its_setting()
    {
        var failures = JwtFailures(new JwtOptions
        {
            SigningKey = NewKey(ECCurve.NamedCurves.nistP256),
            Lifetime = TimeSpan.Zero,
            RefreshLifetime = TimeSpan.FromMinutes(-1),
        }).ToList();

        Assert.Equal(2, failures.Count);
        Assert.StartsWith("Jwt:Lifetime is 00:00:00;", failures[0]);
        Assert.StartsWith("Jwt:RefreshLifetime is -00:01:00;", failures[1]);
        Assert.StartsWith("Jwt:SessionMaxLifetime is 30.00:00:00, shorter than", JwtFailures(new JwtOptions { SigningKey = NewKey(ECCurve.NamedCurves.nistP256), RefreshLifetime = TimeSpan.FromDays(31) }).Single());
    }

    [Fact]
    public void A_signing_key_is_required_where_asked_for()
    {
        Assert.StartsWith("Jwt:SigningKey is not set", JwtFailures(new JwtOptions()).Single());
    }

    [Theory]
    [InlineData("not-a-key")]
    [InlineData("bm90IGEga2V5")]
    public void A_signing_key_that_is_no_key_is_refused_without_its_value(string value)
    {
        var failure = JwtFailures(new JwtOptions { SigningKey = value }).Single();

        Assert.StartsWith("Jwt:SigningKey is not a base64 PKCS#8 P-256 private key", failure);
        Assert.DoesNotContain(value, failure);
    }

    [Fact]
    public void A_key_of_another_curve_is_refused_naming_its_setting()
    {
        var failure = JwtFailures(new JwtOptions { SigningKey = NewKey(ECCurve.NamedCurves.nistP256), PreviousSigningKey = NewKey(ECCurve.NamedCurves.nistP384) }).Single();

        Assert.StartsWith("Jwt:PreviousSigningKey is not a base64 PKCS#8 P-256 private key (a 384-bit key)", failure);
    }

    [Fact]
    public void Login_throttle_mistakes_name_their_setting()
    {
        var options = new LoginThrottleOptions { Window = TimeSpan.Zero };
        options.PerAccount.MaxDelay = TimeSpan.Zero;

        var failures = new LoginThrottleOptionsCheck().Validate(null, options).Failures!.ToList();

        Assert.Equal(2, failures.Count);
        Assert.StartsWith("LoginThrottle:PerAccount:MaxDelay is 00:00:00; give at least its BaseDelay (00:00:01)", failures[0]);
        Assert.StartsWith("LoginThrottle:Window is 00:00:00;", failures[1]);
        Assert.True(new LoginThrottleOptionsCheck().Validate(null, new LoginThrottleOptions()).Succeeded);
    }

    private static IEnumerable<string> AdminFailures(string? email, string? password) =>
        new AdminOptionsCheck().Validate(null, new AdminOptions { Email = email, Password = password }).Failures ?? [];

    /// <summary>A password of <paramref name="letters"/> ASCII letters then <paramref name="keys"/> emoji (two UTF-16 units each, one character).</summary>
    private static string Password(int letters, int keys) => new string('p', letters) + string.Concat(Enumerable.Repeat("\U0001F511", keys));

    [Theory]
    [InlineData(3, 0)]
    [InlineData(0, 5)] // ten UTF-16 units, five characters
    [InlineData(7, 0)]
    [InlineData(129, 0)]
    [InlineData(128, 1)] // 129 characters
    public void An_admin_password_a_registration_refuses_is_refused_naming_its_setting(int letters, int keys)
    {
        Assert.StartsWith("Admin:Password (the admin-password parameter; SHOP_ADMIN_PASSWORD in development) must be 8 to 128 characters,", AdminFailures("admin@shop.local", Password(letters, keys)).Single());
    }

    [Theory]
    [InlineData(0, 8)] // eight characters
    [InlineData(120, 8)] // 128 characters, 136 UTF-16 units
    [InlineData(128, 0)]
    public void An_admin_password_is_counted_in_characters(int letters, int keys)
    {
        Assert.Empty(AdminFailures("admin@shop.local", Password(letters, keys)));
    }

    [Theory]
    [InlineData("admin-at-shop.local")]
    [InlineData("admin@shop.local.")]
    [InlineData("k\u0131m@shop.local")]
    [InlineData("admin@sh\u00f6p.local")]
    public void An_admin_email_a_registration_refuses_is_refused_naming_its_setting(string email)
    {
        Assert.StartsWith("Admin:Email (the admin-email parameter; SHOP_ADMIN_EMAIL in development) must be an address registration accepts:", AdminFailures(email, "Admin123!").Single());
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("", "")]
    [InlineData("  ", null)]
    [InlineData(" admin@shop.local ", "Admin123!")]
    public void Admin_settings_left_empty_or_valid_pass(string? email, string? password)
    {
        Assert.Empty(AdminFailures(email, password));
    }

    [Fact]
    public void Both_admin_mistakes_are_said_at_once()
    {
        Assert.Equal(2, AdminFailures("admin-at-shop.local", "abc").Count());
    }
}
