using Microsoft.EntityFrameworkCore;
using Shop.Users.Data;

namespace Shop.Users.Services;

/// <summary>
/// Users' record of the raised stamps Redis may not hold yet: the rows of <c>unpublished_stamps</c>, which the
/// database writes in the transaction that raises a stamp (the trigger of the migration <c>StampsRecordedUntilPublished</c>), so
/// no raise can commit without its record, whatever the process does next.
/// </summary>
public sealed class UnpublishedStampTable(UsersDatabase database, ILogger<UnpublishedStampTable> logger)
    : IUnpublishedStampRecord
{
    public async Task<IReadOnlyList<RecordedStamp>> ReadAsync(CancellationToken ct) =>
        await database.UseAsync((db, ct) => db.UnpublishedStamps.AsNoTracking().Select(u => new RecordedStamp(u.UserId, u.Stamp, u.RaisedAt)).ToListAsync(ct), ct);

    public async Task ForgetAsync(int userId, int stamp)
    {
        try
        {
            // Not a newer raise's row: that stamp is not in Redis yet.
            await database.UseAsync((db, ct) => db.UnpublishedStamps.Where(u => u.UserId == userId && u.Stamp <= stamp).ExecuteDeleteAsync(ct), CancellationToken.None);
        }
        catch (Exception e)
        {
            // Redis has the stamp; the row left behind only makes some Users process publish it once more. Never thrown:
            // the change that raised the stamp is committed and must still be answered, audited and its cache cleared.
            logger.Log(e is ServiceUnavailableException ? LogLevel.Debug : LogLevel.Warning, e,
                "Could not delete the record of user {UserId}'s published stamp {Stamp}; it will be published again", userId, stamp);
        }
    }
}

/// <summary>
/// Publishes every recorded stamp (<see cref="SecurityStamps.TakeOverRecordedAsync"/>): at start, for what this or
/// another process raised before it stopped, and every few seconds, for what another replica raised and could not
/// publish (it may have stopped for good). The table is empty but for raises Redis has not taken, so a pass is one
/// read of an empty table.
/// </summary>
public sealed class UnpublishedStampSweep(SecurityStamps stamps, ILogger<UnpublishedStampSweep> logger) : RepeatingJob(logger)
{
    protected override TimeSpan Interval => TimeSpan.FromSeconds(5);

    /// <summary>The start has just read the table (or failed to): a pass at once would only read it again.</summary>
    protected override TimeSpan FirstPassAfter => Interval;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Before Users listens: its first requests must already refuse tokens older than a recorded stamp.
        try
        {
            await stamps.TakeOverRecordedAsync(cancellationToken);
        }
        catch (ServiceUnavailableException e)
        {
            FailedPasses.Failed(e, Interval);
        }
        await base.StartAsync(cancellationToken);
    }

    protected override async Task RunOnceAsync(CancellationToken ct)
    {
        if (await stamps.TakeOverRecordedAsync(ct) is var count and > 0)
        {
            logger.LogDebug("Publishing {Count} recorded security stamps Redis may not hold yet", count);
        }
    }
}
