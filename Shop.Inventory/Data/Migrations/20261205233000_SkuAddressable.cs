using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Shop.Inventory.Data.Migrations
{
    /// <summary>
    /// Every sku reachable as <c>/inventory/{sku}</c>: not a dot segment, not the health route. Added NOT VALID:
    /// new and changed rows are checked, and an existing deployment that already holds such an item still
    /// migrates (that item was unreachable through the API; rename or delete it in SQL, then VALIDATE CONSTRAINT).
    /// </summary>
    [DbContext(typeof(InventoryDbContext))]
    [Migration("20261205233000_SkuAddressable")]
    public partial class SkuAddressable : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql($"ALTER TABLE inventory ADD CONSTRAINT ck_inventory_sku_addressable CHECK ({InventoryDbContext.SkuAddressableSql}) NOT VALID;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropCheckConstraint(name: "ck_inventory_sku_addressable", table: "inventory");
        }
    }
}
