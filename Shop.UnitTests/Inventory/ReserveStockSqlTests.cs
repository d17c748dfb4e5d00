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

        Assert.StartsWith("CREATE OR REPLACE FUNCTION reserve_stock(p_order_id uuid, p_skus text[], p_qtys int[])", sql);
        Assert.Contains("LANGUAGE plpgsql", sql);
    }

    [Fact]
    public void Its_migration_executes_that_file()
    {
        var operation = Assert.Single(new ReserveStockFunction().UpOperations);

        Assert.Equal(ReadResource(), Assert.IsType<SqlOperation>(operation).Sql);
    }

    private static string ReadResource()
    {
        using var stream = typeof(InventoryDbContext).Assembly.GetManifestResourceStream(ResourceName);
        Assert.True(stream is not null, $"{ResourceName} is not embedded in Shop.Inventory.");
        return new StreamReader(stream).ReadToEnd();
    }
}
