namespace Shop.Orders.Services.Webhooks;

public sealed class WebhookOptions
{
    /// <summary>Waits between attempts; after the last one fails the delivery is marked failed.
    /// The default spans about 46 hours: 10 s, 30 s, 2 min, 10 min, 30 min, 1 h, 3 h, 6 h, 12 h, 24 h.</summary>
    public List<TimeSpan> RetrySchedule { get; set; } = [];

    public static readonly TimeSpan[] DefaultRetrySchedule =
    [
        TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(10),
        TimeSpan.FromMinutes(30), TimeSpan.FromHours(1), TimeSpan.FromHours(3), TimeSpan.FromHours(6),
        TimeSpan.FromHours(12), TimeSpan.FromHours(24),
    ];

    public IReadOnlyList<TimeSpan> EffectiveSchedule => RetrySchedule.Count > 0 ? RetrySchedule : DefaultRetrySchedule;

    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long subscribing waits for the target's host name to resolve before it refuses the URL (the admin's
    /// request waits meanwhile; the OS resolver alone can take much longer). A delivery attempt's resolution is
    /// bounded by <see cref="AttemptTimeout"/> alone.
    /// </summary>
    public TimeSpan ResolveTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The fallback scan of the outbox. New rows wake the dispatcher through the database's notification
    /// and a retry wakes it when due, so this only bounds what a lost notification could delay.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// After a wake-up the dispatcher waits this long before it claims, so the outbox rows of orders committed
    /// meanwhile go out in the same pass: one claim, one outcome write and one pending count for several
    /// orders instead of for each. It adds up to this much to a delivery's latency.
    /// </summary>
    public TimeSpan GatherAfterWake { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// The shortest time between two of this replica's announcements to the others (<see cref="OutboxAnnouncer"/>):
    /// commits in the meantime share the next one. Under load that is one <c>NOTIFY</c> per interval instead of
    /// one for most orders; the writer's own dispatcher is woken in memory, so only the other replicas hear of
    /// a burst's later rows up to this much later, and they gather for <see cref="GatherAfterWake"/> anyway.
    /// </summary>
    public TimeSpan AnnounceInterval { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// While one instance sends a claimed row, others leave it alone this long. It must outlast a batch sent to a
    /// subscriber that times out on every attempt (validated at start). A lane that fails has its rows sent again
    /// when the lease ends; a crashed replica's claimed rows are found by another replica's fallback poll
    /// (<see cref="PollInterval"/>) after it.
    /// </summary>
    public TimeSpan ClaimLease { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Rows one subscriber's lane claims at once: one claim and one outcome write per batch.</summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>
    /// Deliveries in flight to one subscriber at once, each about a different order (one order's events
    /// always go one after another, in event order). A subscriber's throughput is about this many divided by
    /// its answer time: at 4, a subscriber answering in 15 ms on a busy machine fell behind 350 orders/s
    /// (docs/performance.md, Round 21).
    /// </summary>
    public int MaxConcurrentPerSubscriber { get; set; } = 16;

    /// <summary>
    /// Subscribers this replica sends to at once, each in a lane of its own; the others wait for a free lane,
    /// the one waiting longest first.
    /// </summary>
    public int MaxSubscribersAtOnce { get; set; } = 8;

    /// <summary>Refuse private, link-local, multicast and unspecified targets (SSRF). Default: on outside Development.</summary>
    public bool? BlockPrivateNetworks { get; set; }

    /// <summary>
    /// Allow loopback targets even when private networks are blocked. Default: only in Development. Allowed
    /// loopback targets (a developer's or a test's local receiver) are exempt from the port and scheme rules.
    /// </summary>
    public bool? AllowLoopback { get; set; }

    /// <summary>Refuse plain http targets. Default: on outside Development.</summary>
    public bool? RequireHttps { get; set; }

    /// <summary>
    /// The only ports a target may use, so the delivery log cannot be used to probe other services.
    /// Default: 80 and 443 outside Development, any in Development.
    /// </summary>
    public List<int> AllowedPorts { get; set; } = [];

    /// <summary>How long the previous secret keeps signing after a rotation (deliveries carry both signatures).</summary>
    public TimeSpan SecretRotationGrace { get; set; } = TimeSpan.FromHours(24);
}
