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

    [Fact]
    public void TryParse_gives_the_paging_and_no_problem_for_values_in_range()
    {
        Assert.True(Paging.TryParse(null, 10, out var paging, out var problem));

        Assert.Equal(new Paging(Paging.DefaultLimit, 10), paging);
        Assert.Null(problem);
    }

    [Fact]
    public void TryParse_gives_one_problem_naming_each_field_out_of_range()
    {
        Assert.False(Paging.TryParse(0, -1, out _, out var problem));

        Assert.Equal(400, problem.StatusCode);
        Assert.Equal(["limit", "offset"], problem.ProblemDetails.Errors.Keys.Order());
        Assert.Equal(["Must be between 1 and 200."], problem.ProblemDetails.Errors["limit"]);
    }
}
