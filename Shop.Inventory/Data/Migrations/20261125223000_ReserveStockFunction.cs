using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Shop.Inventory.Data.Sql;

#nullable disable

namespace Shop.Inventory.Data.Migrations
{
    /// <summary>
    /// A reservation as one statement (<c>Data/Sql/reserve_stock.sql</c>). Every order for a popular
    /// sku queues on that sku's row lock, so the lock is held only for the function's own work inside
    /// the database, not across round trips from C#.
    /// </summary>
    [DbContext(typeof(InventoryDbContext))]
    [Migration("20261125223000_ReserveStockFunction")]
    public partial class ReserveStockFunction : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(InventorySql.Read("reserve_stock.sql"));
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP FUNCTION IF EXISTS reserve_stock(uuid, text[], int[]);");
        }
    }
}
