using Shop.Orders.Data;

namespace Shop.UnitTests.Orders;

public sealed class OrderStatusTests
{
    private static readonly (string From, string To)[] Allowed =
    [
        (OrderStatus.Pending, OrderStatus.Paid), (OrderStatus.Pending, OrderStatus.Cancelled), (OrderStatus.Paid, OrderStatus.Shipped),
        (OrderStatus.Paid, OrderStatus.Cancelled), (OrderStatus.Shipped, OrderStatus.Delivered),
    ];

    public static TheoryData<string, string> EveryPair()
    {
        var pairs = new TheoryData<string, string>();
        foreach (var from in OrderStatus.All)
        {
            foreach (var to in OrderStatus.All)
            {
                pairs.Add(from, to);
            }
        }
        return pairs;
    }

    [Theory]
    [MemberData(nameof(EveryPair))]
    public void Only_the_transition_table_moves_are_allowed(string from, string to) =>
        Assert.Equal(Allowed.Contains((from, to)), OrderStatus.CanMove(from, to));

    [Fact]
    public void Expired_is_reached_by_no_move_and_left_by_none() =>
        Assert.DoesNotContain(OrderStatus.All, s => OrderStatus.CanMove(s, OrderStatus.Expired) || OrderStatus.CanMove(OrderStatus.Expired, s));

    [Fact]
    public void Unknown_statuses_move_nowhere()
    {
        Assert.False(OrderStatus.CanMove("PENDING", OrderStatus.Paid));
        Assert.False(OrderStatus.CanMove(OrderStatus.Pending, "refunded"));
    }
}
