using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Shop.Inventory.Data.Sql;

#nullable disable

namespace Shop.Inventory.Data.Migrations
{
    /// <summary>
    /// A reservation line names the item its stock was taken from (<c>item_id</c>, written by <c>reserve_stock</c>), so
    /// a release gives it back to that item and never to another one created later under the same sku. Not in the EF
    /// model: only SQL reads and writes it. Null for lines reserved before this migration, which go back by sku as
    /// before. No foreign key: a deleted item's lines must keep naming it (item ids are never reused), not turn null.
    /// </summary>
    [DbContext(typeof(InventoryDbContext))]
    [Migration("20261206023000_ReservationLinesKeepTheirItem")]
    public partial class ReservationLinesKeepTheirItem : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("ALTER TABLE reservation_lines ADD COLUMN IF NOT EXISTS item_id integer;");
            migrationBuilder.Sql(InventorySql.Read("reserve_stock.sql"));
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // The column stays: the function of this version writes it, and code before this version ignores it.
        }
    }
}
