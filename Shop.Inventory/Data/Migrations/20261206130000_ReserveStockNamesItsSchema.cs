using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Shop.Inventory.Data.Sql;

#nullable disable

namespace Shop.Inventory.Data.Migrations
{
    /// <summary>
    /// <c>reserve_stock</c> (<c>Data/Sql/reserve_stock.sql</c>) names its tables with the schema Inventory's tables are
    /// in, <c>public</c>. Unqualified, they were looked up through the search_path of the session that called it: under
    /// one that leaves out public (a role's or a pooler's setting) every reservation failed with "relation reservations
    /// does not exist". Replaced (CREATE OR REPLACE, so its grant stays), nothing else changed; Down restores the text
    /// ReservationLinesKeepTheirItem left, which is the file's without <c>public.</c>.
    /// </summary>
    [DbContext(typeof(InventoryDbContext))]
    [Migration("20261206130000_ReserveStockNamesItsSchema")]
    public partial class ReserveStockNamesItsSchema : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder) => migrationBuilder.Sql(InventorySql.Read("reserve_stock.sql"));

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder) =>
            migrationBuilder.Sql(InventorySql.Read("reserve_stock.sql").Replace("public.", "", StringComparison.Ordinal));
    }
}
