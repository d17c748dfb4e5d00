using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Shop.ServiceDefaults;

/// <summary>
/// A list's paging: <c>limit</c> 1..200 (default 50) and <c>offset</c> ≥ 0, the same on every list
/// endpoint (README, "API conventions").
/// </summary>
public readonly record struct Paging(int Limit, int Offset)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    /// <summary>
    /// The paging of a list whose only query fields are <c>limit</c> and <c>offset</c>; false with the 400 to answer
    /// when either is out of range. A list with more query fields uses <see cref="Parse"/>, so one answer names them all.
    /// </summary>
    public static bool TryParse(int? limit, int? offset, out Paging paging, [NotNullWhen(false)] out ValidationProblem? problem)
    {
        var errors = new ValidationErrors();
        paging = Parse(limit, offset, errors);
        problem = errors.IsValid ? null : errors.ToProblem();
        return problem is null;
    }

    /// <summary>The paging, its mistakes added to <paramref name="errors"/> beside those of the list's other query fields.</summary>
    public static Paging Parse(int? limit, int? offset, ValidationErrors errors)
    {
        var l = limit ?? DefaultLimit;
        var o = offset ?? 0;
        if (l is < 1 or > MaxLimit)
        {
            errors.Add("limit", $"Must be between 1 and {MaxLimit}.");
        }
        if (o < 0)
        {
            errors.Add("offset", "Must be 0 or more.");
        }
        return new Paging(l, o);
    }
}

/// <summary>One page of a list and the number of rows the whole (filtered) list has.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, int Total, int Limit, int Offset);

public static class PagingQueries
{
    /// <summary>
    /// Counts the filtered rows, then reads one page of them in <paramref name="order"/> (which must be total,
    /// ending with a unique key, so pages neither skip nor repeat rows) and maps each row to its answer.
    /// </summary>
    public static async Task<Page<TResult>> ToPageAsync<T, TResult>(this IQueryable<T> query, Paging paging,
        Func<IQueryable<T>, IOrderedQueryable<T>> order, Func<T, TResult> map, CancellationToken ct)
    {
        var total = await query.CountAsync(ct);
        var rows = await order(query).Skip(paging.Offset).Take(paging.Limit).ToListAsync(ct);
        return new Page<TResult>([.. rows.Select(map)], total, paging.Limit, paging.Offset);
    }
}
