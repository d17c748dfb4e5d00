using Shop.ServiceDefaults;

namespace Shop.UnitTests.ServiceDefaults;

public sealed class PagingTests
{
    [Fact]
    public void Absent_values_take_the_defaults()
    {
        var errors = new ValidationErrors();

        var paging = Paging.Parse(null, null, errors);

        Assert.True(errors.IsValid);
        Assert.Equal(new Paging(Paging.DefaultLimit, 0), paging);
    }

    [Theory]
    [InlineData(0, 0, "limit")]
    [InlineData(201, 0, "limit")]
    [InlineData(-1, 0, "limit")]
    [InlineData(50, -1, "offset")]
    public void Out_of_range_values_name_their_field(int limit, int offset, string field)
    {
        var errors = new ValidationErrors();

        Paging.Parse(limit, offset, errors);

        Assert.False(errors.IsValid);
        Assert.Contains(field, errors.ToProblem().ProblemDetails.Errors.Keys);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(200, 0)]
    [InlineData(50, 1_000_000)]
    public void The_bounds_themselves_are_accepted(int limit, int offset)
    {
        var errors = new ValidationErrors();

        Assert.Equal(new Paging(limit, offset), Paging.Parse(limit, offset, errors));
        Assert.True(errors.IsValid);
    }
}
