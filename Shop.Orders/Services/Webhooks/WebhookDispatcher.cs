using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Shop.Orders.Data;
using Shop.ServiceDefaults;

namespace Shop.Orders.Services.Webhooks;

/// <summary>
/// Sends the webhook outbox, one lane per subscriber. Each lane claims its subscriber's due rows with
/// <c>FOR UPDATE SKIP LOCKED</c> and a lease (so several Orders instances share the work and a crashed
/// sender's rows come back), signs and POSTs each, then records the outcomes: delivered on 2xx, otherwise
/// the next attempt per the back-off schedule with jitter, and failed after the last. A crash between send
/// and record means a re-send, never a loss. Lanes run independently, so a subscriber that answers slowly
/// or not at all delays only its own deliveries. A subscriber found unavailable is paused rather than tried
/// once per due delivery: its deliveries wait and keep their retry budgets, one probe goes out when the pause
/// ends (from one replica), and the backlog follows as soon as a probe gets through. Committed outbox rows wake the job on every replica
/// (<see cref="WebhookDispatchSignal"/>), and so does a lane that ends; otherwise it sleeps until the
/// earliest retry falls due (or the lease of a lane of its own that failed ends), at most <c>Webhooks:PollInterval</c>.
/// </summary>
public sealed class WebhookDispatcher(
    IServiceScopeFactory scopes, IHttpClientFactory httpClients, IOptions<WebhookOptions> options,
    WebhookDispatchSignal signal, WebhookTargetPolicy targets, WebhookSecrets secrets, WebhookMetrics metrics, ILogger<WebhookDispatcher> logger) : SignalledJob(signal, logger)
{
    public const string HttpClientName = "webhooks";
    public static readonly ActivitySource ActivitySource = new("Shop.Orders.Webhooks");
    private readonly WebhookOptions _options = options.Value;

    /// <summary>The running lanes, by subscription. Only the job's own loop adds; a lane removes itself when it ends.</summary>
    private readonly ConcurrentDictionary<Guid, Task> _lanes = new();

    protected override TimeSpan FallbackPoll => _options.PollInterval;

    protected override TimeSpan GatherAfterWake => _options.GatherAfterWake;

    protected override async Task<JobPass> RunOnceAsync(CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<OrdersDbContext>();
        var countBacklog = _lanes.IsEmpty || Stopwatch.GetElapsedTime(_backlogCountedAt) >= BacklogCountInterval;
        // One statement, so every part reads the same now(): a row is either due (its subscriber gets a lane, has one, or
        // waits for one to end, which wakes the job) or counted in the next due time. Only reads, so when it meets a broken
        // connection (one the database ended, as a restart does) it is run again on a fresh one; the lanes, which claim
        // and POST, start only after it. It was two statements and a count, each taking a connection from the pool, which
        // hands out the idle one waiting longest: with the database's sessions ended during a pass, the first ran on a
        // live connection and the count met a dead one, and the failed pass waited 5 s (DatabaseOutageTests).
        var pass = await db.Database.RerunnableAsync(() => LookAsync(db, countBacklog, ct));
        foreach (var subscriptionId in pass.Waiting)
        {
            StartLane(subscriptionId, ct);
        }
        if (pass is { Pending: { } pending, PausedSubscribers: { } paused })
        {
            _backlogCountedAt = Stopwatch.GetTimestamp();
            metrics.SetBacklog(pending, paused);
        }
        return new JobPass(false, Earliest(pass.NextDue, FailedLeaseEnd()));
    }

    /// <summary>
    /// The subscribers to start a lane for now, when the earliest row not due yet falls due, and, when
    /// <paramref name="countBacklog"/>, the backlog gauges' figures.
    /// </summary>
    private async Task<DispatcherLook> LookAsync(OrdersDbContext db, bool countBacklog, CancellationToken ct)
    {
        // Subscribers with a row due and no lane here, the longest waiting first, as many as there are free lanes. A
        // subscriber whose rows another replica has claimed has none due until their lease ends.
        // webhook_deliveries_claimable (Data/Migrations/…WebhookLeaseOutsideTheIndexes): pending rows not leased whose
        // order has no earlier event pending for the subscriber. The lanes' claim reads the same view, so the rule stands
        // once.
        // Then each subscriber's earliest row due later, one probe of its index each, so a pass costs the same whatever the
        // backlog (a min over every pending row read all 50,000 of a dead subscriber's: Round 23), and the end of each
        // pause that holds rows back. Leases are not in an index, so their ends are not looked up here: a lane of this
        // replica that fails keeps its lease's end (below), and another replica's that stopped mid-batch is found by the
        // fallback poll after its lease.
        // The counts read every pending row; PostgreSQL runs a CASE branch's subquery only when the branch is taken.
        var running = _lanes.Keys.ToArray();
        var free = Math.Max(_options.MaxSubscribersAtOnce - running.Length, 0);
        return (await db.Database.SqlQuery<DispatcherLook>($"""
            SELECT
                ARRAY(
                    SELECT s.id FROM webhook_subscriptions s
                    CROSS JOIN LATERAL (
                        SELECT d.next_attempt_at AS due FROM webhook_deliveries_claimable d
                        WHERE d.subscription_id = s.id
                        ORDER BY d.next_attempt_at
                        LIMIT 1) oldest
                    WHERE oldest.due <= now() AND s.id <> ALL({running}) AND (s.paused_until IS NULL OR s.paused_until <= now())
                    ORDER BY oldest.due
                    LIMIT {free}) AS waiting,
                (SELECT min(due) FROM (
                    SELECT later.due FROM webhook_subscriptions s
                    CROSS JOIN LATERAL (
                        SELECT d.next_attempt_at AS due FROM webhook_deliveries d
                        WHERE d.subscription_id = s.id AND d.status = 'pending' AND d.next_attempt_at > now()
                        ORDER BY d.next_attempt_at
                        LIMIT 1) later
                    UNION ALL
                    SELECT s.paused_until FROM webhook_subscriptions s
                    WHERE s.paused_until > now()
                      AND EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.subscription_id = s.id AND d.status = 'pending')) dues) AS next_due,
                CASE WHEN {countBacklog} THEN (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending') END AS pending,
                CASE WHEN {countBacklog} THEN (SELECT count(*) FROM webhook_subscriptions WHERE paused_until IS NOT NULL) END AS paused_subscribers
            """).ToListAsync(ct)).Single();
    }

    /// <param name="Pending">Null when the pass did not count the backlog.</param>
    private sealed record DispatcherLook(Guid[] Waiting, DateTime? NextDue, long? Pending, long? PausedSubscribers);

    /// <summary>Ticks of the latest lease held by a lane of this replica that failed; 0 when none is still running.</summary>
    private long _failedLeaseEndTicks;

    private DateTime? FailedLeaseEnd()
    {
        var ticks = Interlocked.Read(ref _failedLeaseEndTicks);
        if (ticks == 0)
        {
            return null;
        }
        if (ticks <= DateTime.UtcNow.Ticks)
        {
            // Over: this pass found the rows it held claimable again. A later failure keeps its own.
            Interlocked.CompareExchange(ref _failedLeaseEndTicks, 0, ticks);
            return null;
        }
        return new DateTime(ticks, DateTimeKind.Utc);
    }

    /// <summary>
    /// Remembers a failed lane's lease so the job looks again when it ends. Only the latest is kept: lanes fail
    /// together (the database away), and rows of an earlier lease are found then or by the fallback poll.
    /// </summary>
    private void KeepFailedLease(DateTime leaseEnd)
    {
        long seen;
        do
        {
            seen = Interlocked.Read(ref _failedLeaseEndTicks);
        }
        while (seen < leaseEnd.Ticks && Interlocked.CompareExchange(ref _failedLeaseEndTicks, leaseEnd.Ticks, seen) != seen);
    }

    private static DateTime? Earliest(DateTime? a, DateTime? b) => a is null ? b : b is null ? a : a < b ? a : b;

    /// <summary>
    /// How stale the <c>shop.webhooks.pending</c> and <c>shop.webhooks.paused_subscribers</c> gauges may get while lanes
    /// are sending. While no lane runs, every pass counts (passes are rare then); under load a pass runs for nearly every
    /// commit, and the count reads every pending row.
    /// </summary>
    private static readonly TimeSpan BacklogCountInterval = TimeSpan.FromSeconds(5);

    private long _backlogCountedAt;

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // The lanes share the job's stopping token and are cancelled now; rows whose outcome was not written yet
        // come back when their lease ends (at least once).
        await Task.WhenAll(_lanes.Values).WaitAsync(cancellationToken);
    }

    private void StartLane(Guid subscriptionId, CancellationToken ct)
    {
        // Registered before it runs, so that a lane that ends at once still finds itself to remove.
        var lane = new Task<Task>(() => RunLaneAsync(subscriptionId, ct));
        _lanes[subscriptionId] = lane.Unwrap();
        lane.Start(TaskScheduler.Default);
    }

    /// <summary>Claims, sends and records one subscriber's due rows, batch after batch, until none is left (or others wait for a lane).</summary>
    private async Task RunLaneAsync(Guid subscriptionId, CancellationToken ct)
    {
        var endedNormally = false;
        DateTime? claimLease = null;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                using var scope = scopes.CreateScope();
                var db = scope.ServiceProvider.GetRequiredService<OrdersDbContext>();
                var subscription = await db.WebhookSubscriptions.AsNoTracking().FirstOrDefaultAsync(s => s.Id == subscriptionId, ct);
                if (subscription?.PausedUntil > DateTime.UtcNow)
                {
                    break; // paused by this lane's last batch or by another replica's
                }
                // A pause that has run out is probed with one delivery, by the one replica that takes the probe; the
                // next batch is whole if it got through.
                var pauseEnded = subscription?.PausedUntil;
                var probeLease = pauseEnded is { } ended ? await TakeProbeAsync(db, subscriptionId, ended, ct) : null;
                if (pauseEnded is not null && probeLease is null)
                {
                    break; // another replica is probing
                }
                // To the microsecond, as PostgreSQL keeps it: the outcomes are written only where the lease is still this one.
                claimLease = DatabaseTime.ToMicroseconds(DateTime.UtcNow + _options.ClaimLease);
                var claimed = await ClaimAsync(db, subscriptionId, pauseEnded is null ? _options.BatchSize : 1, claimLease.Value, ct);
                if (claimed.Count == 0)
                {
                    if (pauseEnded is { } unprobed && probeLease is { } lease)
                    {
                        await GiveBackProbeAsync(db, subscriptionId, unprobed, lease, ct);
                    }
                    break;
                }
                await SendAllAsync(db, subscription, claimed, claimLease.Value, ct);
                if (_lanes.Count >= _options.MaxSubscribersAtOnce)
                {
                    // Every lane is taken and other subscribers may be waiting: this one ends after each batch, and
                    // the job's next look gives the lanes to the subscribers waiting longest, this one among them.
                    break;
                }
            }
            endedNormally = !ct.IsCancellationRequested;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // The claimed rows keep their lease and come back when it ends; the job's look then starts a new lane
            // (not at once, since the database may be away: this lane does not wake the job).
            if (claimLease is { } held)
            {
                KeepFailedLease(held);
            }
            logger.LogWarning(e, "Webhook lane for subscription {SubscriptionId} failed; its claimed deliveries are retried after their lease", subscriptionId);
        }
        finally
        {
            _lanes.TryRemove(subscriptionId, out _);
        }
        if (endedNormally)
        {
            // Rows that came for this subscriber after the lane's last claim were announced while it still ran;
            // the lane is gone first, so the job's look that follows can start a new one.
            signal.Notify();
        }
    }

    private async Task SendAllAsync(OrdersDbContext db, WebhookSubscription? subscription, List<WebhookDelivery> claimed, DateTime lease, CancellationToken ct)
    {
        // A batch holds at most one event per order (rows in turn, ClaimAsync), so its deliveries go up to
        // MaxConcurrentPerSubscriber at a time in any order. One POST at a time per subscriber was what bounded
        // delivery under load (docs/performance.md). The outcomes are written in one statement when the batch is
        // done; the claim's lease keeps the rows meanwhile, and a crash before the write means those deliveries
        // are sent again (at least once, never lost). Once an attempt finds the subscriber unavailable and none
        // has got an answer, the batch's other rows are not tried: they go back due, and the pause written with
        // the outcomes holds them.
        // When the service stops, attempts under way finish (each within AttemptTimeout, inside the host's shutdown
        // time) and the rows not started yet go back untried, and every outcome is written: cancelling the whole batch
        // dropped the outcomes of deliveries already made (sent again after the lease) and held the rest for the lease.
        var reach = new BatchReach();
        var outcomes = new ConcurrentBag<DeliveryOutcome>();
        await Parallel.ForEachAsync(claimed, new ParallelOptions { MaxDegreeOfParallelism = _options.MaxConcurrentPerSubscriber },
            async (delivery, _) =>
            {
                var outcome = reach.SubscriberSeemsDown || ct.IsCancellationRequested ? Held(delivery) : await AttemptAsync(delivery, subscription, CancellationToken.None);
                reach.Add(outcome.Reach);
                outcomes.Add(outcome);
            });
        await RecordAsync(db, subscription, reach, lease, [.. outcomes]);
    }

    /// <summary>
    /// Takes the probe of a pause that has run out, so that one replica sends it rather than each replica woken by the
    /// pause's end: the pause is extended by the claim's lease (the probe's outcome then sets it, and a replica that
    /// stops mid-probe leaves the next one to another). Null when another replica took it first.
    /// </summary>
    private async Task<DateTime?> TakeProbeAsync(OrdersDbContext db, Guid subscriptionId, DateTime pauseEnded, CancellationToken ct) =>
        (await db.Database.SqlQuery<DateTime>($"""
            UPDATE webhook_subscriptions SET paused_until = now() + {_options.ClaimLease}
            WHERE id = {subscriptionId} AND paused_until = {pauseEnded}
            RETURNING paused_until AS "Value"
            """).ToListAsync(ct)) is [var lease] ? lease : null;

    /// <summary>A probe taken with nothing to probe with: the pause is as it was, so a delivery that comes is probed at once.</summary>
    private static Task GiveBackProbeAsync(OrdersDbContext db, Guid subscriptionId, DateTime pauseEnded, DateTime lease, CancellationToken ct) =>
        db.Database.ExecuteSqlAsync($"UPDATE webhook_subscriptions SET paused_until = {pauseEnded} WHERE id = {subscriptionId} AND paused_until = {lease}", ct);

    /// <summary>What one batch's attempts have found out about the subscriber so far (lanes' threads share it).</summary>
    private sealed class BatchReach
    {
        private int _answered;
        private int _unavailable;

        public bool Answered => Volatile.Read(ref _answered) > 0;

        public bool Unavailable => Volatile.Read(ref _unavailable) > 0;

        public bool SubscriberSeemsDown => Unavailable && !Answered;

        public void Add(SubscriberReach reach)
        {
            if (reach == SubscriberReach.Answered)
            {
                Interlocked.Increment(ref _answered);
            }
            else if (reach == SubscriberReach.Unavailable)
            {
                Interlocked.Increment(ref _unavailable);
            }
        }
    }

    /// <summary>A claimed row given back untried: due now, its attempts and last outcome as they were.</summary>
    private static DeliveryOutcome Held(WebhookDelivery delivery) =>
        new(delivery.Id, WebhookDeliveryStatus.Pending, delivery.Attempts, delivery.LastStatusCode, delivery.LastError, DateTime.UtcNow, null, SubscriberReach.NotTried);

    private static async Task<List<WebhookDelivery>> ClaimAsync(OrdersDbContext db, Guid subscriptionId, int limit, DateTime leaseUntil, CancellationToken ct) =>
        // One statement (Data/Migrations/…WebhookClaimTakesItsLimit, …WebhookLeaseOutsideTheIndexes): at most `limit` of
        // the subscriber's due rows, oldest first, only rows in turn, locked, skipped by other instances while locked, and
        // leased (leased_until, a HOT update) so that no instance takes them again while they are sent. A row is in turn once every
        // earlier event of its order to its subscriber is delivered or given up: one order's events arrive in event
        // order even when the first attempt of one fails, and across replicas (an earlier row claimed elsewhere is
        // still pending). So one batch never holds two of an order's events.
        await db.WebhookDeliveries
            .FromSql($"SELECT * FROM claim_webhook_deliveries({subscriptionId}, {limit}, {leaseUntil})")
            .AsNoTracking().ToListAsync(ct);

    /// <summary>What one attempt leaves in the delivery's row, and what it found out about the subscriber.</summary>
    private sealed record DeliveryOutcome(long Id, string Status, int Attempts, int? LastStatusCode, string? LastError, DateTime NextAttemptAt, DateTime? DeliveredAt,
        SubscriberReach Reach);

    private async Task RecordAsync(OrdersDbContext db, WebhookSubscription? subscription, BatchReach batch, DateTime lease, List<DeliveryOutcome> outcomes)
    {
        // Not cancellable: an attempt that was made is recorded even while the service stops. A change of the
        // subscriber's pause is written in the same transaction as the outcomes that decided it; without one (the
        // usual batch) the outcomes are one statement, as before pauses. Only rows that still carry this lane's lease
        // are written: a lane slower than its lease (a stalled process) finds its rows taken by another replica,
        // perhaps already delivered and recorded, and must not put them back to pending (sent again, after the
        // order's later events).
        // Either way it is safe to run again on a fresh connection when it met a broken one (Orders' database restarted
        // while the batch was sent): the statement writes only rows that still carry this lane's lease, and clears it, so a
        // second run after a first that committed finds none of them (RecordReachAsync's counter and log lines follow its last
        // statement, so a run again repeats none). Lost, the outcomes were sent again after the lease.
        var reach = subscription is null ? ReachChange.None : ReachChangeOf(subscription, batch);
        if (reach == ReachChange.None)
        {
            await db.Database.RerunnableAsync(() => WriteOutcomesAsync(db, lease, outcomes));
            return;
        }
        await db.InAllOrNothingTransactionAsync(async _ =>
        {
            await WriteOutcomesAsync(db, lease, outcomes);
            await RecordReachAsync(db, subscription!, reach, outcomes);
        }, CancellationToken.None);
    }

    private static Task<int> WriteOutcomesAsync(OrdersDbContext db, DateTime lease, List<DeliveryOutcome> outcomes) =>
        db.Database.ExecuteSqlRawAsync("""
            UPDATE webhook_deliveries AS d
            SET status = o.status, attempts = o.attempts, last_status_code = o.last_status_code,
                last_error = o.last_error, next_attempt_at = o.next_attempt_at, delivered_at = o.delivered_at, leased_until = NULL
            FROM unnest(@ids, @statuses, @attempts, @codes, @errors, @next, @delivered)
                AS o(id, status, attempts, last_status_code, last_error, next_attempt_at, delivered_at)
            WHERE d.id = o.id AND d.leased_until = @lease
            """,
            [
                new NpgsqlParameter("lease", NpgsqlDbType.TimestampTz) { Value = lease },
                new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = outcomes.Select(o => o.Id).ToArray() },
                new NpgsqlParameter("statuses", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = outcomes.Select(o => o.Status).ToArray() },
                new NpgsqlParameter("attempts", NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = outcomes.Select(o => o.Attempts).ToArray() },
                new NpgsqlParameter("codes", NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = outcomes.Select(o => o.LastStatusCode).ToArray() },
                new NpgsqlParameter("errors", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = outcomes.Select(o => o.LastError).ToArray() },
                new NpgsqlParameter("next", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = outcomes.Select(o => o.NextAttemptAt).ToArray() },
                new NpgsqlParameter("delivered", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = outcomes.Select(o => o.DeliveredAt).ToArray() },
            ], CancellationToken.None);

    private enum ReachChange { None, Reachable, Unavailable }

    /// <summary>
    /// An answer ends a pause (or a streak); a batch in which nothing got an answer and something found the
    /// subscriber unavailable starts or lengthens one.
    /// </summary>
    private static ReachChange ReachChangeOf(WebhookSubscription subscription, BatchReach batch) =>
        batch.Answered
            ? subscription.UnavailableStreak > 0 || subscription.PausedUntil is not null ? ReachChange.Reachable : ReachChange.None
            : batch.Unavailable ? ReachChange.Unavailable : ReachChange.None;

    /// <summary>
    /// Ends the pause, or starts or lengthens it along the retry schedule. Rows held back longer than the whole
    /// schedule are then given up, as an attempted row is after its last attempt, so a subscriber gone for good does
    /// not keep its backlog forever.
    /// </summary>
    private async Task RecordReachAsync(OrdersDbContext db, WebhookSubscription subscription, ReachChange change, List<DeliveryOutcome> outcomes)
    {
        if (change == ReachChange.Reachable)
        {
            await db.Database.ExecuteSqlAsync($"UPDATE webhook_subscriptions SET paused_until = NULL, unavailable_streak = 0 WHERE id = {subscription.Id}", CancellationToken.None);
            logger.LogInformation("Webhook subscriber {SubscriptionId} answers again after {Streak} unavailable batch(es); its waiting deliveries go out", subscription.Id, subscription.UnavailableStreak);
            return;
        }
        var schedule = _options.EffectiveSchedule;
        var streak = subscription.UnavailableStreak + 1;
        var pausedUntil = DateTime.UtcNow + PauseAfter(schedule, streak, Random.Shared.NextDouble());
        await db.Database.ExecuteSqlAsync($"UPDATE webhook_subscriptions SET paused_until = {pausedUntil}, unavailable_streak = {streak} WHERE id = {subscription.Id}", CancellationToken.None);
        var span = schedule.Aggregate(TimeSpan.Zero, (sum, wait) => sum + wait);
        var error = Truncate($"Not sent: the subscriber was unavailable for longer than the retry schedule ({span}).", 500);
        // Not rows another replica's lane holds: it is sending them, and records their outcome itself.
        var givenUp = await db.Database.ExecuteSqlAsync($"""
            UPDATE webhook_deliveries SET status = 'failed', last_error = CASE WHEN attempts = 0 THEN {error} ELSE last_error END
            WHERE subscription_id = {subscription.Id} AND status = 'pending' AND next_attempt_at <= now() AND created_at < now() - {span}
              AND (leased_until IS NULL OR leased_until <= now())
            """, CancellationToken.None);
        metrics.Failed(givenUp);
        var lastError = outcomes.First(o => o.Reach == SubscriberReach.Unavailable).LastError;
        if (streak == 1)
        {
            logger.LogWarning("Webhook subscriber {SubscriptionId} is unavailable ({Error}); its deliveries wait, and one is tried at {PausedUntil:O}", subscription.Id, lastError, pausedUntil);
        }
        else
        {
            logger.LogInformation("Webhook subscriber {SubscriptionId} still unavailable after {Streak} probes ({Error}); next probe at {PausedUntil:O}, {GivenUp} waiting deliveries given up", subscription.Id, streak - 1, lastError, pausedUntil, givenUp);
        }
    }

    /// <summary>
    /// The target check resolves the host for every attempt (an address that changed to an internal one is refused),
    /// within the attempt's time: a resolver that does not answer must not stretch a batch past its claim's lease.
    /// </summary>
    private async Task<string?> CheckTargetAsync(Uri uri, DateTime attemptEnds, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Remaining(attemptEnds));
        try
        {
            return await targets.CheckAsync(uri, timeout.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return $"The host name did not resolve within {_options.AttemptTimeout.TotalSeconds:0} s.";
        }
    }

    private static TimeSpan Remaining(DateTime attemptEnds) =>
        attemptEnds - DateTime.UtcNow is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero;

    private async Task<DeliveryOutcome> AttemptAsync(WebhookDelivery delivery, WebhookSubscription? subscription, CancellationToken ct)
    {
        using var activity = ActivitySource.StartActivity("webhook deliver", ActivityKind.Producer);
        activity?.SetTag("shop.webhook.delivery_id", delivery.Id);
        activity?.SetTag("shop.webhook.event_type", delivery.EventType);
        activity?.SetTag("shop.webhook.attempt", delivery.Attempts + 1);
        using var logScope = logger.BeginScope(new Dictionary<string, object> { ["DeliveryId"] = delivery.Id, ["EventId"] = delivery.EventId });

        int? statusCode = null;
        string? error = null;
        var sent = false;
        var started = Stopwatch.GetTimestamp();
        // One AttemptTimeout for the target check and the request together (the claim's lease counts on it).
        var attemptEnds = DateTime.UtcNow + _options.AttemptTimeout;
        if (subscription is not { IsActive: true })
        {
            error = "Subscription is inactive.";
        }
        else if (!WebhookTargetPolicy.IsWellFormed(subscription.Url, out var uri))
        {
            error = "Target refused: the URL is not an absolute http(s) URL.";
        }
        else if (await CheckTargetAsync(uri!, attemptEnds, ct) is { } refusal)
        {
            error = $"Target refused: {refusal}";
        }
        else if (secrets.TrySigningSecrets(subscription, DateTime.UtcNow) is not { } signingSecrets)
        {
            error = "The signing secret cannot be decrypted (Data Protection key missing); rotate the secret.";
        }
        else
        {
            (statusCode, error) = await SendAsync(subscription, signingSecrets, delivery, attemptEnds, ct);
            sent = true;
        }
        var elapsed = Stopwatch.GetElapsedTime(started);
        metrics.RecordAttempt(elapsed, statusCode);

        var attempts = delivery.Attempts + 1;
        var now = DateTime.UtcNow;
        if (statusCode is >= 200 and < 300)
        {
            metrics.Delivered();
            // Debug, not Information: one line per delivery is the whole log under load; the delivered
            // counter and the delivery log carry the same facts.
            logger.LogDebug("Webhook delivery {DeliveryId} delivered on attempt {Attempt} ({StatusCode})", delivery.Id, attempts, statusCode);
            return new DeliveryOutcome(delivery.Id, WebhookDeliveryStatus.Delivered, attempts, statusCode, null, delivery.NextAttemptAt, now, SubscriberReach.Answered);
        }

        activity?.SetStatus(ActivityStatusCode.Error, error ?? $"HTTP {statusCode}");
        var delay = subscription is { IsActive: true } ? RetryDelay(_options.EffectiveSchedule, attempts, Random.Shared.NextDouble()) : null;
        var gaveUp = delay is null;
        var next = delay is { } wait ? now + wait : now;
        var lastError = Truncate(error ?? $"HTTP {statusCode}", 500);
        if (gaveUp)
        {
            metrics.Failed();
            logger.LogWarning("Webhook delivery {DeliveryId} failed after {Attempts} attempts: {Error}", delivery.Id, attempts, lastError);
        }
        else
        {
            logger.LogInformation("Webhook delivery {DeliveryId} attempt {Attempt} failed ({Error}); next at {Next:O}", delivery.Id, attempts, lastError, next);
        }
        return new DeliveryOutcome(delivery.Id, gaveUp ? WebhookDeliveryStatus.Failed : WebhookDeliveryStatus.Pending, attempts, statusCode, lastError, next, null,
            sent ? ReachOf(statusCode) : SubscriberReach.NotTried);
    }

    private async Task<(int? StatusCode, string? Error)> SendAsync(WebhookSubscription subscription, IReadOnlyList<string> signingSecrets, WebhookDelivery delivery, DateTime attemptEnds, CancellationToken ct)
    {
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, subscription.Url)
        {
            Content = new StringContent(delivery.Payload, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        request.Headers.Add("X-Shop-Event", delivery.EventType);
        request.Headers.Add("X-Shop-Delivery", delivery.EventId.ToString());
        request.Headers.Add("X-Shop-Signature", Sign(signingSecrets, timestamp, delivery.Payload));
        request.Headers.UserAgent.ParseAdd("Shop-Webhooks/1.0");

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Remaining(attemptEnds));
        try
        {
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            return ((int)response.StatusCode, null);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (null, $"Timed out after {_options.AttemptTimeout.TotalSeconds:0} s.");
        }
        catch (HttpRequestException e)
        {
            return (null, e.Message);
        }
    }

    /// <summary>
    /// The client deliveries go out with: every connection checked against <see cref="WebhookTargetPolicy"/>,
    /// no redirects, no proxy, no resilience handlers (the dispatcher owns retries and their schedule), and the
    /// subscriber's URL kept out of the traces (it is often a capability).
    /// </summary>
    public static IHttpClientBuilder AddHttpClient(IServiceCollection services)
    {
        // RemoveAllResilienceHandlers is experimental, but it is the documented way to opt one client out of the defaults.
#pragma warning disable EXTEXP0001
        return services.AddHttpClient(HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                ConnectCallback = sp.GetRequiredService<WebhookTargetPolicy>().ConnectAsync,
                AllowAutoRedirect = false, // a redirect could point anywhere, including inside
                UseProxy = false, // with a proxy (HTTP_PROXY), the connect-time check would see the proxy's address, not the target's
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            })
            .RemoveAllResilienceHandlers()
            .KeepUrlPathsOutOfTelemetry();
#pragma warning restore EXTEXP0001
    }

    /// <summary>
    /// <c>t=&lt;unix&gt;,v1=&lt;hex HMAC-SHA256(secret, "&lt;t&gt;.&lt;body&gt;")&gt;</c>, one <c>v1</c> per secret
    /// (two during a rotation's grace period, as Stripe does); a subscriber accepts any that matches.
    /// </summary>
    public static string Sign(IEnumerable<string> secrets, long timestamp, string payload)
    {
        var signed = Encoding.UTF8.GetBytes($"{timestamp}.{payload}");
        return $"t={timestamp}," + string.Join(',', secrets.Select(secret =>
            "v1=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed))));
    }

    /// <summary>
    /// No answer at all, or one that says the subscriber cannot take deliveries now (rate limited, or its own
    /// proxy without a backend), is about the subscriber; any other answer, a 500 included, is about the delivery.
    /// </summary>
    internal static SubscriberReach ReachOf(int? statusCode) =>
        statusCode is null or 429 or 502 or 503 or 504 ? SubscriberReach.Unavailable : SubscriberReach.Answered;

    /// <summary>The pause after <paramref name="streak"/> unavailable batches in a row: the retry schedule's entry, its last one past the end.</summary>
    internal static TimeSpan PauseAfter(IReadOnlyList<TimeSpan> schedule, int streak, double random) =>
        RetryDelay(schedule, Math.Min(streak, schedule.Count), random)!.Value;

    /// <summary>
    /// The wait before the next attempt after <paramref name="attempts"/> failed ones: the schedule's entry within
    /// ±20 % (<paramref name="random"/> in [0, 1)), so subscribers that failed together are not retried together;
    /// null once the schedule is used up.
    /// </summary>
    internal static TimeSpan? RetryDelay(IReadOnlyList<TimeSpan> schedule, int attempts, double random) =>
        attempts > schedule.Count ? null : schedule[attempts - 1] * (0.8 + random * 0.4);

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max];
}

/// <summary>What an attempt says about whether the subscriber can take deliveries now.</summary>
internal enum SubscriberReach
{
    /// <summary>Not sent: held back, or refused before sending (target policy, inactive subscription, secret).</summary>
    NotTried,
    Answered,
    Unavailable,
}

public sealed class WebhookMetrics
{
    private readonly Counter<long> _delivered;
    private readonly Counter<long> _failed;
    private readonly Histogram<double> _attemptDuration;
    private long _pending;
    private long _pausedSubscribers;

    public WebhookMetrics(IMeterFactory meters)
    {
        var meter = meters.Create("Shop.Orders.Webhooks");
        _delivered = meter.CreateCounter<long>("shop.webhooks.delivered", description: "Deliveries acknowledged with 2xx");
        _failed = meter.CreateCounter<long>("shop.webhooks.failed", description: "Deliveries given up after the last attempt");
        _attemptDuration = meter.CreateHistogram<double>("shop.webhooks.attempt.duration", unit: "s", description: "Duration of one delivery attempt");
        meter.CreateObservableGauge("shop.webhooks.pending", () => Interlocked.Read(ref _pending), description: "Deliveries waiting to be sent");
        meter.CreateObservableGauge("shop.webhooks.paused_subscribers", () => Interlocked.Read(ref _pausedSubscribers),
            description: "Subscriptions whose subscriber is treated as down: their deliveries wait for a probe to get through");
    }

    public void Delivered() => _delivered.Add(1);
    public void Failed(long count = 1) => _failed.Add(count);

    public void SetBacklog(long pending, long pausedSubscribers)
    {
        Interlocked.Exchange(ref _pending, pending);
        Interlocked.Exchange(ref _pausedSubscribers, pausedSubscribers);
    }

    public void RecordAttempt(TimeSpan elapsed, int? statusCode) =>
        _attemptDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("http.response.status_code", statusCode));
}
