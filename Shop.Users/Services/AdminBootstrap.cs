using Microsoft.EntityFrameworkCore;
using Shop.Users.Data;

namespace Shop.Users.Services;

public sealed class AdminOptions
{
    public string? Email { get; set; }
    public string? Password { get; set; }
}

/// <summary>
/// Ensures the configured admin exists and is an active admin. Safe when several instances start at
/// once (insert-if-absent on the unique email); an existing admin's password is left as they set it.
/// </summary>
public static class AdminBootstrap
{
    public static async Task EnsureAdminAsync(this WebApplication app)
    {
        var options = app.Configuration.GetSection("Admin").Get<AdminOptions>() ?? new AdminOptions();
        var logger = app.Logger;
        if (string.IsNullOrWhiteSpace(options.Email) || string.IsNullOrEmpty(options.Password))
        {
            logger.LogWarning("No Admin:Email/Admin:Password configured; no admin bootstrapped.");
            return;
        }

        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<UsersDbContext>();
        var passwords = scope.ServiceProvider.GetRequiredService<PasswordService>();
        var email = options.Email.Trim();
        var normalized = User.Normalize(email);

        var inserted = await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO users (name, email, normalized_email, password_hash, role, is_active, created_at)
            VALUES ('Administrator', {email}, {normalized}, {passwords.Hash(options.Password)}, 'admin', true, now())
            ON CONFLICT (normalized_email) DO NOTHING
            """);
        if (inserted == 0)
        {
            await db.Users.Where(u => u.NormalizedEmail == normalized)
                .ExecuteUpdateAsync(s => s.SetProperty(u => u.Role, Roles.Admin).SetProperty(u => u.IsActive, true));
        }
        logger.LogInformation("Admin account {Email} {Outcome}", email, inserted == 0 ? "already present" : "created");
    }
}
