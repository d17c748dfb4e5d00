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
/// Tests that need the shared app to themselves but not the scaled-out app (the gateway's rate limits: what
/// reaches Users while another client hammers is counted in its log), or that take one of its
/// services away for a while (ShutdownTests signals Orders to stop). Like every collection that turns
/// parallelization off, it runs alone, after the parallel tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AloneCollection
{
    public const string Name = "Alone (timing-sensitive, on the shared app)";
}
