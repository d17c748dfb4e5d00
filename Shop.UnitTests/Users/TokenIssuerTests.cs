using System.Security.Cryptography;
using Shop.Users.Data;
using Shop.Users.Services;

namespace Shop.UnitTests.Users;

/// <summary>What sign-out may read from an access token that is no longer accepted.</summary>
public sealed class TokenIssuerTests
{
    private static readonly User Account = new() { Id = 7, Name = "Ann", Email = "ann@example.com", NormalizedEmail = "ann@example.com", PasswordHash = "-" };

    private static TokenIssuer NewIssuer(TimeSpan lifetime) => new(ECDsa.Create(ECCurve.NamedCurves.nistP256), lifetime);

    [Fact]
    public async Task An_expired_token_of_ours_still_names_its_session()
    {
        var issuer = NewIssuer(TimeSpan.FromSeconds(-120)); // issued already expired
        var session = Guid.NewGuid();
        var (token, _) = issuer.Issue(Account, session);

        Assert.Equal(session, await issuer.SessionOfAsync(token));
    }

    [Fact]
    public async Task A_token_signed_by_another_key_or_altered_names_nothing()
    {
        var issuer = NewIssuer(TimeSpan.FromMinutes(10));
        var (foreign, _) = NewIssuer(TimeSpan.FromMinutes(10)).Issue(Account, Guid.NewGuid());
        var (ours, _) = issuer.Issue(Account, Guid.NewGuid());
        var parts = ours.Split('.');
        var altered = $"{parts[0]}.{parts[1]}x.{parts[2]}";

        Assert.Null(await issuer.SessionOfAsync(foreign));
        Assert.Null(await issuer.SessionOfAsync(altered));
        Assert.Null(await issuer.SessionOfAsync("not a token"));
    }
}
