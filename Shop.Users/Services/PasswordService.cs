using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Shop.Users.Data;

namespace Shop.Users.Services;

/// <summary>
/// ASP.NET Core Identity's PBKDF2-HMAC-SHA512 hasher at OWASP's minimum work factor or above
/// (Identity's default of 100,000 iterations is below it). Older hashes verify and are upgraded.
/// </summary>
public sealed class PasswordService
{
    public const int IterationCount = 220_000;
    public const int MinLength = 8;
    public const int MaxLength = 128;

    private readonly PasswordHasher<User> _hasher = new(Options.Create(new PasswordHasherOptions
    {
        CompatibilityMode = PasswordHasherCompatibilityMode.IdentityV3,
        IterationCount = IterationCount,
    }));

    // Verified against when the email is unknown, so both paths cost the same time.
    private readonly string _dummyHash;

    public PasswordService() => _dummyHash = Hash(Guid.NewGuid().ToString());

    public string Hash(string password) => _hasher.HashPassword(null!, password);

    public PasswordVerificationResult Verify(string hash, string password) =>
        _hasher.VerifyHashedPassword(null!, hash, password);

    public void VerifyAgainstDummy(string password) => _hasher.VerifyHashedPassword(null!, _dummyHash, password);
}
