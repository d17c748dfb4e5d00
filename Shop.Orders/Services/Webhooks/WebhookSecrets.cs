using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Shop.Orders.Data;

namespace Shop.Orders.Services.Webhooks;

/// <summary>
/// Webhook signing secrets: generated here (32 random bytes), shown once, stored encrypted with ASP.NET
/// Core Data Protection (key ring in the Orders database, so every replica can decrypt), and rotated
/// with a grace period during which deliveries are signed with both the new and the previous secret.
/// </summary>
public sealed class WebhookSecrets(IDataProtectionProvider dataProtection, ILogger<WebhookSecrets> logger)
{
    private readonly IDataProtector _protector = dataProtection.CreateProtector("Shop.Orders.Webhooks.SigningSecret.v1");

    /// <summary>
    /// Loads (and on a fresh database creates) the key ring at start, one replica at a time: replicas
    /// starting together would otherwise each create a first key, and each would then hold payloads
    /// the others' cached key rings do not know yet.
    /// </summary>
    public static async Task LoadKeyRingAsync(IServiceProvider services)
    {
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<OrdersDbContext>();
        await using var tx = await db.Database.BeginTransactionAsync();
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({KeyRingLock})");
        scope.ServiceProvider.GetRequiredService<WebhookSecrets>().Protect("key ring warm-up");
        await tx.CommitAsync();
    }

    private const int KeyRingLock = 17_004;

    public static string Generate() => "whsec_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    public string Protect(string secret) => _protector.Protect(secret);

    /// <summary>
    /// The secrets a delivery is signed with now: the current one, then the previous one while its grace
    /// period lasts. Throws <see cref="CryptographicException"/> when the key ring lacks the key.
    /// </summary>
    public IReadOnlyList<string> SigningSecrets(WebhookSubscription subscription, DateTime now)
    {
        var secrets = new List<string>(2) { Current(subscription) };
        if (subscription.PreviousProtectedSecret is { } previous && subscription.PreviousSecretExpiresAt > now)
        {
            secrets.Add(_protector.Unprotect(previous));
        }
        return secrets;
    }

    /// <summary>
    /// The current secret, or null when it cannot be decrypted (the key ring lacks its key: README, "lost, every stored
    /// webhook secret is unreadable"). Rotation is the way out of that, so it must not need the secret it replaces.
    /// </summary>
    public string? CurrentIfReadable(WebhookSubscription subscription)
    {
        try
        {
            return Current(subscription);
        }
        catch (CryptographicException e)
        {
            logger.LogWarning("The signing secret of webhook {WebhookId} cannot be decrypted ({Reason}); it is replaced without a grace period", subscription.Id, e.Message);
            return null;
        }
    }

    public string Current(WebhookSubscription subscription) =>
        subscription.ProtectedSecret is { } protectedSecret ? _protector.Unprotect(protectedSecret)
        : subscription.LegacySecret ?? throw new InvalidOperationException($"Webhook {subscription.Id} has no secret.");

    /// <summary>Encrypts plaintext secrets written by an older version, in place; safe to run on several replicas.</summary>
    public async Task EncryptLegacySecretsAsync(OrdersDbContext db, CancellationToken ct)
    {
        // In id order: EF Core warns (at every start) about a row limit without one, and a batch is then a definite one.
        var legacy = await db.WebhookSubscriptions.AsNoTracking().Where(s => s.LegacySecret != null)
            .OrderBy(s => s.Id).Select(s => new { s.Id, s.LegacySecret }).Take(100).ToListAsync(ct);
        foreach (var row in legacy)
        {
            var encrypted = Protect(row.LegacySecret!);
            // Compared with the plaintext read, so a concurrent replica's or a rotation's write is never overwritten.
            var changed = await db.WebhookSubscriptions.Where(s => s.Id == row.Id && s.LegacySecret == row.LegacySecret)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.ProtectedSecret, encrypted).SetProperty(x => x.LegacySecret, (string?)null), ct);
            if (changed == 1)
            {
                logger.LogInformation("Encrypted the plaintext signing secret of webhook {WebhookId}", row.Id);
            }
        }
    }
}
