using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Shop.Users.Data;

namespace Shop.Users.Services;

/// <summary>
/// ASP.NET Core Identity's PBKDF2-HMAC-SHA512 hasher at OWASP's minimum work factor or above
/// (Identity's default of 100,000 iterations is below it). Older hashes verify and are upgraded.
/// Each hash costs ~100 ms of a core, so at most a few run at once and a short queue waits for them:
/// a flood of sign-ins or registrations gets quick 503s instead of starving every other request.
/// The hashes run on threads of their own: on the thread pool they held the threads that read Redis'
/// replies, and a burst of sign-ins delayed those replies past the client's timeout (docs/performance.md, Round 10).
/// </summary>
public sealed class PasswordService : IDisposable
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

    private readonly ConcurrencyLimiter _inFlight = new(new ConcurrencyLimiterOptions
    {
        PermitLimit = Math.Max(2, Environment.ProcessorCount),
        QueueLimit = Math.Max(2, Environment.ProcessorCount) * 32,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    });

    public PasswordService() => _dummyHash = Hash(Guid.NewGuid().ToString());

    /// <summary>Runs hashing work inside the cap; false (nothing run) when the queue is full or the wait too long.</summary>
    public async Task<(bool Ran, T Result)> WithinCapAsync<T>(Func<T> work, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // Long enough for an ordinary burst on a busy machine; a flood fills the queue and is refused at once.
        timeout.CancelAfter(TimeSpan.FromSeconds(15));
        RateLimitLease lease;
        try
        {
            lease = await _inFlight.AcquireAsync(1, timeout.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (false, default!);
        }
        using (lease)
        {
            if (!lease.IsAcquired)
            {
                return (false, default!);
            }
            // One thread per check: creating it costs microseconds against the hash's ~100 ms, and the
            // limiter above bounds how many exist at once.
            return (true, await Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default));
        }
    }

    public void Dispose() => _inFlight.Dispose();

    public string Hash(string password) => _hasher.HashPassword(null!, password);

    public PasswordVerificationResult Verify(string hash, string password) =>
        _hasher.VerifyHashedPassword(null!, hash, password);

    /// <summary>
    /// Checks a password and, when it is right but its hash is below today's work factor, returns the new hash
    /// to store: one call, so the upgrade's hash runs inside the same capped work as the check.
    /// </summary>
    public (PasswordVerificationResult Result, string? UpgradedHash) VerifyAndUpgrade(string hash, string password)
    {
        var result = Verify(hash, password);
        return (result, result == PasswordVerificationResult.SuccessRehashNeeded ? Hash(password) : null);
    }

    /// <summary>Costs what a real check costs and always fails.</summary>
    public PasswordVerificationResult VerifyAgainstDummy(string password)
    {
        _hasher.VerifyHashedPassword(null!, _dummyHash, password);
        return PasswordVerificationResult.Failed;
    }
}
