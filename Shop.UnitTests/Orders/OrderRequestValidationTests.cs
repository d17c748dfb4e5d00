using Shop.Orders.Apis;
using Shop.ServiceDefaults;

namespace Shop.UnitTests.Orders;

/// <summary>The rules of <c>POST /orders</c>'s body and Idempotency-Key; the full-stack suite checks one of them arrives as a 400.</summary>
public sealed class OrderRequestValidationTests
{
    private static string[] Fields(CreateOrderRequest request)
    {
        var errors = new ValidationErrors();
        OrdersApi.Validate(request, errors);
        return errors.IsValid ? [] : [.. errors.ToProblem().ProblemDetails.Errors.Keys];
    }

    private static CreateOrderRequest Lines(params (string? Sku, int? Qty)[] lines) => new([.. lines.Select(l => new CreateOrderLine(l.Sku, l.Qty))]);

    [Fact]
    public void No_items_or_an_empty_list_names_items()
    {
        Assert.Equal(["items"], Fields(new CreateOrderRequest(null)));
        Assert.Equal(["items"], Fields(new CreateOrderRequest([])));
    }

    [Fact]
    public void One_to_one_hundred_lines_are_allowed_not_more()
    {
        Assert.Empty(Fields(Lines([.. Enumerable.Range(0, OrdersApi.MaxLines).Select(i => ((string?)$"S-{i}", (int?)1))])));
        Assert.Equal(["items"], Fields(Lines([.. Enumerable.Range(0, OrdersApi.MaxLines + 1).Select(i => ((string?)$"S-{i}", (int?)1))])));
    }

    [Fact]
    public void A_null_line_is_named_by_its_index() =>
        Assert.Equal(["items[1]"], Fields(new CreateOrderRequest([new CreateOrderLine("A-1", 1), null])));

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1001)]
    [InlineData(null)]
    public void Quantity_outside_1_to_1000_is_refused(int? qty) => Assert.Equal(["items[0].qty"], Fields(Lines(("A-1", qty))));

    [Theory]
    [InlineData(1)]
    [InlineData(1000)]
    public void Quantity_bounds_are_accepted(int qty) => Assert.Empty(Fields(Lines(("A-1", qty))));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("A 1")]
    [InlineData("A/1")]
    [InlineData("ä-1")]
    [InlineData("A-1\n")]
    public void Sku_outside_the_format_is_refused(string? sku) => Assert.Equal(["items[0].sku"], Fields(Lines((sku, 1))));

    [Fact]
    public void Sku_length_is_1_to_64()
    {
        Assert.Empty(Fields(Lines((new string('A', 64), 1))));
        Assert.Equal(["items[0].sku"], Fields(Lines((new string('A', 65), 1))));
    }

    [Fact]
    public void Letters_digits_dot_underscore_and_dash_make_a_sku() => Assert.Empty(Fields(Lines(("Tea.green_1-B", 1))));

    [Fact]
    public void A_repeated_sku_is_named_at_its_second_line() =>
        Assert.Equal(["items[1].sku"], Fields(Lines(("A-1", 1), ("A-1", 2))));

    [Fact]
    public void Skus_differing_in_case_are_different_lines() => Assert.Empty(Fields(Lines(("a-1", 1), ("A-1", 2))));

    [Fact]
    public void Valid_lines_come_back_in_order()
    {
        var lines = OrdersApi.Validate(Lines(("B-2", 3), ("A-1", 1)), new ValidationErrors());

        Assert.Equal([("B-2", 3), ("A-1", 1)], lines);
    }

    [Theory]
    [InlineData("")]
    [InlineData("key\twith tab")]
    [InlineData("key\n")]
    public void Idempotency_key_must_be_visible_characters(string key) => Assert.Equal(["Idempotency-Key"], KeyFields(key));

    [Fact]
    public void Idempotency_key_is_1_to_255_characters()
    {
        Assert.Empty(KeyFields(null));
        Assert.Empty(KeyFields("k"));
        Assert.Empty(KeyFields(new string('k', 255)));
        Assert.Equal(["Idempotency-Key"], KeyFields(new string('k', 256)));
    }

    private static string[] KeyFields(string? key)
    {
        var errors = new ValidationErrors();
        OrdersApi.ValidateIdempotencyKey(key, errors);
        return errors.IsValid ? [] : [.. errors.ToProblem().ProblemDetails.Errors.Keys];
    }
}
