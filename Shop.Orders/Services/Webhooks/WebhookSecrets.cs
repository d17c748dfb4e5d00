using System.Collections.Concurrent;
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
        // Run again whole if it met a broken connection (the database restarting while the service starts): the lock was
        // released with the rolled-back transaction, and loading the key ring again finds the key a first try made.
        await db.InAllOrNothingTransactionAsync(async ct =>
        {
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({KeyRingLock})", ct);
            scope.ServiceProvider.GetRequiredService<WebhookSecrets>().Protect("key ring warm-up");
        }, CancellationToken.None);
    }

    private const int KeyRingLock = 17_004;

    public static string Generate() => "whsec_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    public const int ChosenMinLength = 32, ChosenMaxLength = 256;

    /// <summary>
    /// Why a secret a client chose cannot be used, or null when it can. Visible ASCII only, so every receiver's HMAC
    /// library reads the same bytes and it survives a header or an environment file; long and varied enough that
    /// a guessed or placeholder value ("aaaa…", "changeme…") is not accepted.
    /// </summary>
    public static string? CheckChosen(string secret) =>
        secret.Length is < ChosenMinLength or > ChosenMaxLength || secret.Any(c => c is < '!' or > '~') || secret.Distinct().Count() < 8
            ? $"Must be {ChosenMinLength} to {ChosenMaxLength} visible ASCII characters (no spaces), at least 8 of them different; leave secret out to have one generated."
            : null;

    public string Protect(string secret) => _protector.Protect(secret);

    /// <summary>
    /// The secrets a delivery is signed with now: the current one, then the previous one while its grace period
    /// lasts; null when the key ring lacks their key. That is said at Error once per subscription and process, not
    /// at every attempt of every delivery until an admin rotates it (each attempt's last_error says so too).
    /// </summary>
    public IReadOnlyList<string>? TrySigningSecrets(WebhookSubscription subscription, DateTime now)
    {
        try
        {
            var signing = new List<string>(2) { Current(subscription) };
            if (subscription.PreviousProtectedSecret is { } previous && subscription.PreviousSecretExpiresAt > now)
            {
                signing.Add(_protector.Unprotect(previous));
            }
            if (!_unreadable.IsEmpty && _unreadable.TryRemove(subscription.Id, out _))
            {
                logger.LogInformation("The signing secret of webhook {WebhookId} can be decrypted again (rotated, or its key is back)", subscription.Id);
            }
            return signing;
        }
        catch (CryptographicException e)
        {
            if (_unreadable.TryAdd(subscription.Id, 0))
            {
                logger.LogError(e, "Cannot decrypt the signing secret of webhook {WebhookId}: its Data Protection key is not in the key ring. Its deliveries fail until an admin rotates the secret (POST /orders/webhooks/{WebhookId}/rotate-secret); said once", subscription.Id, subscription.Id);
            }
            else
            {
                logger.LogDebug(e, "Cannot decrypt the signing secret of webhook {WebhookId}", subscription.Id);
            }
            return null;
        }
    }

    /// <summary>The subscriptions whose unreadable secret <see cref="TrySigningSecrets"/> has already reported.</summary>
    private readonly ConcurrentDictionary<Guid, byte> _unreadable = new();

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
