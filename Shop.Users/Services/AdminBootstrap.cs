using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Shop.Users.Apis;
using Shop.Users.Data;

namespace Shop.Users.Services;

public sealed class AdminOptions
{
    public string? Email { get; set; }
    public string? Password { get; set; }
}

/// <summary>
/// The bootstrapped admin's settings follow the rules of a registration: a shorter password would make an admin weaker
/// than any account, a longer one an admin who could never sign in (sign-in refuses over 128), and an address
/// registration refuses one that reads as another account's. An empty setting is not checked: then no admin is
/// bootstrapped (<see cref="AdminBootstrap.EnsureAdminAsync"/>, which reads the options, so checks them before it creates one).
/// </summary>
public sealed class AdminOptionsCheck : IValidateOptions<AdminOptions>
{
    public ValidateOptionsResult Validate(string? name, AdminOptions options)
    {
        var failures = new List<string>();
        if (!string.IsNullOrEmpty(options.Password) && !UserValidation.IsNewPasswordLength(options.Password))
        {
            failures.Add($"Admin:Password (the admin-password parameter; SHOP_ADMIN_PASSWORD in development) must be {PasswordService.MinLength} to {PasswordService.MaxLength} characters, as every password: counted in characters (Unicode code points), as typed.");
        }
        if (!string.IsNullOrWhiteSpace(options.Email) && UserValidation.NewEmailProblem(options.Email.Trim()) is not null)
        {
            failures.Add("Admin:Email (the admin-email parameter; SHOP_ADMIN_EMAIL in development) must be an address registration accepts: a valid email address without a trailing dot, in ASCII characters only (an internationalised domain in its xn-- form).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>
/// Creates the first admin from configuration, once: only while no admin exists at all. It never
/// promotes, reactivates or re-passwords an existing account, so whoever later holds the configured
/// email (after the admin changed theirs, or the operator changed the setting) gains nothing from a
/// restart, and a deactivated admin stays deactivated. Outside Development the documented default
/// password is refused.
/// </summary>
public static class AdminBootstrap
{
    /// <summary>The README's development password; never acceptable for a deployment.</summary>
    public const string DocumentedDefaultPassword = "Admin123!";

    public static async Task EnsureAdminAsync(this WebApplication app)
    {
        // Validated here, before any admin is created, not only when the host starts (ValidateOnStart): that is later.
        var options = app.Services.GetRequiredService<IOptions<AdminOptions>>().Value;
        var logger = app.Logger;
        if (string.IsNullOrWhiteSpace(options.Email) || string.IsNullOrEmpty(options.Password))
        {
            logger.LogWarning("No Admin:Email/Admin:Password configured; no admin bootstrapped.");
            return;
        }
        if (!app.Environment.IsDevelopment() && options.Password == DocumentedDefaultPassword)
        {
            throw new InvalidOperationException(
                "Admin:Password is the documented development default. Set the admin-password parameter (ADMIN_PASSWORD in .env, or the Kubernetes secret) to a password of your own.");
        }

        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<UsersDbContext>();
        var passwords = scope.ServiceProvider.GetRequiredService<PasswordService>();
        var email = options.Email.Trim();
        var normalized = User.Normalize(email);

        // Replicas starting together: the unique email lets exactly one insert win.
        var inserted = await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO users (name, email, normalized_email, password_hash, role, is_active, created_at)
            SELECT 'Administrator', {email}, {normalized}, {passwords.Hash(options.Password)}, 'admin', true, now()
            WHERE NOT EXISTS (SELECT 1 FROM users WHERE role = 'admin')
            ON CONFLICT (normalized_email) DO NOTHING
            """);
        if (inserted == 1)
        {
            logger.LogInformation("Admin account {Email} created", email);
        }
        else if (await db.Users.AnyAsync(u => u.Role == Roles.Admin))
        {
            logger.LogInformation("An admin account exists; bootstrap left every account as it is");
        }
        else
        {
            logger.LogWarning("No admin exists and {Email} belongs to an ordinary account, which bootstrap never promotes. Configure another Admin:Email, or promote an account in the database.", email);
        }
    }
}
