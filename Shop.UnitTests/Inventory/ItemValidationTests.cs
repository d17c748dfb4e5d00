using Shop.ServiceDefaults;
using Shop.Inventory.Apis;
using Shop.Inventory.Services;

namespace Shop.UnitTests.Inventory;

/// <summary>The field rules of every Inventory request (the full-stack suite checks once per endpoint that they reach the client).</summary>
public sealed class ItemValidationTests
{
    private static readonly string Sku64 = new('s', 64);

    private static IEnumerable<string> Fields(ValidationErrors errors) => errors.ToProblem().ProblemDetails.Errors.Keys;

    private static void AssertOnly(string field, ValidationErrors errors) => Assert.Equal([field], Fields(errors));

    public static TheoryData<CreateItemRequest, string> BadCreates => new()
    {
        { new(null, "n", 1, 1), "sku" },
        { new("", "n", 1, 1), "sku" },
        { new("has space", "n", 1, 1), "sku" },
        { new("a/b", "n", 1, 1), "sku" },
        { new("ü-1", "n", 1, 1), "sku" },
        { new(Sku64 + "s", "n", 1, 1), "sku" },
        // Not addressable as /inventory/{sku}: dot segments, and the health route (matched case-insensitively).
        { new(".", "n", 1, 1), "sku" },
        { new("..", "n", 1, 1), "sku" },
        { new("healthz", "n", 1, 1), "sku" },
        { new("HealthZ", "n", 1, 1), "sku" },
        { new("OK-1", null, 1, 1), "name" },
        { new("OK-1", "", 1, 1), "name" },
        { new("OK-1", "   ", 1, 1), "name" },
        { new("OK-1", new string('n', 101), 1, 1), "name" },
        { new("OK-1", "n", null, 1), "price" },
        { new("OK-1", "n", -1, 1), "price" },
        { new("OK-1", "n", -0.01m, 1), "price" },
        { new("OK-1", "n", 1.234m, 1), "price" },
        { new("OK-1", "n", 10_000_000_000m, 1), "price" },
        { new("OK-1", "n", 1, -1), "qty" },
        { new("OK-1", "n", 1, 1_000_000_001), "qty" },
    };

    [Theory]
    [MemberData(nameof(BadCreates))]
    public void Create_names_the_bad_field(CreateItemRequest request, string field) =>
        AssertOnly(field, ItemValidation.Create(request));

    /// <summary>A sku ending in a line break passed .NET's <c>$</c> and then failed the database's CHECK (a 500, not a 400).</summary>
    [Fact]
    public void A_sku_with_a_final_line_break_is_refused()
    {
        AssertOnly("sku", ItemValidation.Create(new("OK-1\n", "n", 1, 1)));
        Assert.DoesNotMatch(ItemValidation.SkuPattern(), "OK-1\n");
    }

    // A fact, not theory rows: a theory prints its values in the test's name, and a NUL or BEL there is
    // not valid XML, which cut the TRX report short.
    [Fact]
    public void Control_characters_in_the_name_are_refused()
    {
        AssertOnly("name", ItemValidation.Create(new("OK-1", "bell\u0007", 1, 1)));
        AssertOnly("name", ItemValidation.Create(new("OK-1", "nul\u0000", 1, 1)));
    }

    // The rule itself is NameValidationTests' (ServiceDefaults); here, that an item's name at create and at a change follows it.
    [Fact]
    public void A_name_that_shows_as_nothing_or_reorders_the_text_after_it_is_refused()
    {
        AssertOnly("name", ItemValidation.Create(new("OK-1", "\u200b\u2060", 1, 1)));
        AssertOnly("name", ItemValidation.Create(new("OK-1", "Sale\u202e", 1, 1)));
        AssertOnly("name", ItemValidation.Update(new("\ufeff", null, null)));
    }

    public static TheoryData<CreateItemRequest> GoodCreates => new()
    {
        new CreateItemRequest("OK-1", "n", 1, 1),
        new CreateItemRequest("a.b_c-D9", "  padded  ", 0, null),
        new CreateItemRequest(Sku64, new string('n', 100), 9_999_999_999.99m, 1_000_000_000),
        new CreateItemRequest("OK-1", "n", 0.5m, 0),
    };

    [Theory]
    [MemberData(nameof(GoodCreates))]
    public void Create_accepts_values_within_bounds(CreateItemRequest request) =>
        Assert.True(ItemValidation.Create(request).IsValid);

    [Fact]
    public void Create_reports_every_bad_field_at_once() =>
        Assert.Equal(["sku", "name", "price", "qty"], Fields(ItemValidation.Create(new("", "", null, -1))));

    public static TheoryData<UpdateItemRequest, string> BadUpdates => new()
    {
        { new("", null, null), "name" },
        { new(" ", null, null), "name" },
        { new(new string('n', 101), null, null), "name" },
        { new("tab\there", null, null), "name" },
        { new(null, -1, null), "price" },
        { new(null, 0.001m, null), "price" },
        { new(null, 10_000_000_000m, null), "price" },
        { new(null, null, -1), "qty" },
        { new(null, null, 1_000_000_001), "qty" },
    };

    [Theory]
    [MemberData(nameof(BadUpdates))]
    public void Update_names_the_bad_field(UpdateItemRequest request, string field) =>
        AssertOnly(field, ItemValidation.Update(request));

    [Fact]
    public void Update_with_fields_within_bounds_is_valid() =>
        Assert.True(ItemValidation.Update(new("New name", 0, 1_000_000_000)).IsValid);

    /// <summary>Unknown fields are ignored, so a body with none of name, price and qty (a misspelt one) would change nothing.</summary>
    [Fact]
    public void Update_with_no_field_it_can_change_is_refused() =>
        AssertOnly("body", ItemValidation.Update(new(null, null, null)));

    [Theory]
    [InlineData(null)]
    [InlineData(-1_000_000_001)]
    [InlineData(1_000_000_001)]
    public void Adjust_requires_a_delta_within_the_stock_bounds(int? delta) =>
        AssertOnly("delta", ItemValidation.Adjust(new(delta)));

    [Theory]
    [InlineData(-1_000_000_000)]
    [InlineData(0)]
    [InlineData(1_000_000_000)]
    public void Adjust_accepts_deltas_within_the_stock_bounds(int delta) =>
        Assert.True(ItemValidation.Adjust(new(delta)).IsValid);

    [Theory]
    // "<NUL>" stands for the character itself: a NUL in the displayed arguments is not valid XML in the TRX report.
    [InlineData("a<NUL>b", null, "q")]
    [InlineData("line\nbreak", null, "q")]
    [InlineData("x", 0, "limit")]
    [InlineData("x", 201, "limit")]
    public void Search_names_the_bad_parameter(string q, int? limit, string field) =>
        AssertOnly(field, ItemValidation.Search(q.Replace("<NUL>", "\0", StringComparison.Ordinal), limit, null, out _));

    [Fact]
    public void Search_text_is_at_most_100_characters()
    {
        AssertOnly("q", ItemValidation.Search(new string('q', 101), null, null, out _));
        Assert.True(ItemValidation.Search(new string('q', 100), null, null, out _).IsValid);
        Assert.True(ItemValidation.Search(null, null, null, out var paging).IsValid);
        Assert.Equal(new Paging(Paging.DefaultLimit, 0), paging);
    }

    private static ReserveRequest Reserve(params (string? Sku, int? Qty)[] lines) =>
        new(Guid.NewGuid(), [.. lines.Select(l => new ReserveLineRequest(l.Sku, l.Qty))]);

    public static TheoryData<ReserveRequest, string> BadReservations => new()
    {
        { new(null, [new("A-1", 1)]), "order_id" },
        { new(Guid.Empty, [new("A-1", 1)]), "order_id" },
        { new(Guid.NewGuid(), null), "items" },
        { new(Guid.NewGuid(), []), "items" },
        { new(Guid.NewGuid(), [.. Enumerable.Range(0, 101).Select(i => new ReserveLineRequest($"S-{i}", 1))]), "items" },
        { Reserve(("A-1", 1), ("A-1", 2)), "items" },
        { Reserve(("A-1", 1), (null, 1)), "items[1].sku" },
        { Reserve(("bad sku", 1)), "items[0].sku" },
        { Reserve(("A-1", 0)), "items[0].qty" },
        { Reserve(("A-1", null)), "items[0].qty" },
        { Reserve(("A-1", 1001)), "items[0].qty" },
    };

    [Theory]
    [MemberData(nameof(BadReservations))]
    public void Reserve_names_the_bad_field(ReserveRequest request, string field) =>
        AssertOnly(field, ItemValidation.Reserve(request));

    [Fact]
    public void Reserve_accepts_up_to_100_distinct_lines_of_1_to_1000()
    {
        Assert.True(ItemValidation.Reserve(Reserve(("A-1", 1), ("B-2", 1000))).IsValid);
        Assert.True(ItemValidation.Reserve(new(Guid.NewGuid(), [.. Enumerable.Range(0, 100).Select(i => new ReserveLineRequest($"S-{i}", 1))])).IsValid);
    }

    [Theory]
    [InlineData("50%", "50\\%")]
    [InlineData("a_b", "a\\_b")]
    [InlineData("back\\slash", "back\\\\slash")]
    [InlineData("plain", "plain")]
    public void Search_text_is_never_a_like_pattern(string text, string escaped) =>
        Assert.Equal(escaped, ItemReader.EscapeLike(text));
}
