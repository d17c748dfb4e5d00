using Xunit;

namespace Shop.Tests.Infrastructure;

/// <summary>
/// Tests that need the machine, or parts of the shared app, to themselves: the fault tests (they stop
/// and restart resources) and the scale-out tests (a second full stack with two replicas of each
/// service). They run one after another, after the parallel tests.
/// </summary>
/// <remarks>
/// One collection rather than two, so the scaled-out app is fully up before any fault test stops a
/// resource. Single instances listen on ports Aspire picks for them; a second app picking its ports
/// while one of the first app's resources is stopped can take that resource's port, and then the
/// restart fails.
/// </remarks>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ExclusiveCollection : ICollectionFixture<ScaledShopApp>
{
    public const string Name = "Exclusive (faults and scale-out; run alone)";
}

/// <summary>
/// Tests that must run alone on the shared app, but do not need the scaled-out app: each changes something every other
/// test would meet, or counts what only its own requests should cause. They take one of its services away for a while
/// (ShutdownTests signals Orders to stop), make its Redis full (RedisFullTests), hold a lock others would wait behind
/// (SessionRaceTests, StockReleaseRaceTests), set a table's statistics (ReleaseGuardTests), count what reaches Users
/// while a client hammers the gateway's rate limits (GatewayLimitsTests), or walk a list page by page that other tests
/// add to and take from (WebhookListTests). Like every collection that turns
/// parallelization off, it runs alone, after the parallel tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AloneCollection
{
    public const string Name = "Alone (must run alone on the shared app)";
}
