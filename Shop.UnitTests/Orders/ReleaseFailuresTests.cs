using Shop.Orders.Services;
using Shop.ServiceDefaults;

namespace Shop.UnitTests.Orders;

/// <summary>
/// The stock release worker's Error for a refused service key, once a pass. Inventory can fail a pass's releases in
/// more than one way (a replica that times out, one that refuses the key after a rotation done out of order); the
/// refusal, which never passes by itself, must be reported whichever failure came first.
/// </summary>
public sealed class ReleaseFailuresTests
{
    private static readonly ServiceUnavailableException Outage = new("inventory");
    private static readonly ServiceUnavailableException Refusal = new("inventory", refusedKeyStatus: 401);

    [Fact]
    public void A_refused_key_is_reported_once_a_pass_even_after_an_outage()
    {
        var failures = new ReleaseFailures();

        Assert.False(failures.Add(Outage));
        Assert.True(failures.Add(Refusal), "a refusal after another failure of the pass was not reported");
        Assert.False(failures.Add(Refusal));
        Assert.Equal(3, failures.Count);
    }

    [Fact]
    public void A_pass_of_outages_reports_nothing()
    {
        var failures = new ReleaseFailures();

        Assert.False(failures.Add(Outage));
        Assert.False(failures.Add(Outage));
    }
}
