using Microsoft.EntityFrameworkCore.Migrations.Operations;
using Shop.Inventory.Data;
using Shop.Inventory.Data.Migrations;

namespace Shop.UnitTests.Inventory;

public sealed class ReserveStockSqlTests
{
    private const string ResourceName = "Shop.Inventory.Data.Sql.reserve_stock.sql";

    [Fact]
    public void The_function_ships_as_an_embedded_sql_file()
    {
        var sql = ReadResource();

        Assert.StartsWith("CREATE OR REPLACE FUNCTION public.reserve_stock(p_order_id uuid, p_skus text[], p_qtys int[])", sql);
        Assert.Contains("LANGUAGE plpgsql", sql);
    }

    [Fact]
    public void Its_migration_executes_that_file()
    {
        var operation = Assert.Single(new ReserveStockFunction().UpOperations);

        Assert.Equal(ReadResource(), Assert.IsType<SqlOperation>(operation).Sql);
    }

    /// <summary>Up executes the file as it is; Down, the text ReservationLinesKeepTheirItem left: the same without <c>public.</c>.</summary>
    [Fact]
    public void Its_schema_migration_executes_that_file_and_goes_back_to_the_unqualified_names()
    {
        var migration = new ReserveStockNamesItsSchema();
        var up = Assert.IsType<SqlOperation>(Assert.Single(migration.UpOperations)).Sql;
        var down = Assert.IsType<SqlOperation>(Assert.Single(migration.DownOperations)).Sql;

        Assert.Equal(ReadResource(), up);
        Assert.Contains("INSERT INTO public.reservations ", up);
        Assert.StartsWith("CREATE OR REPLACE FUNCTION reserve_stock(p_order_id uuid, p_skus text[], p_qtys int[])", down);
        Assert.Contains("INSERT INTO reservations ", down);
        Assert.DoesNotContain("public.", down);
    }

    private static string ReadResource()
    {
        using var stream = typeof(InventoryDbContext).Assembly.GetManifestResourceStream(ResourceName);
        Assert.True(stream is not null, $"{ResourceName} is not embedded in Shop.Inventory.");
        return new StreamReader(stream).ReadToEnd();
    }
}
