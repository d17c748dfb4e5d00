using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Shop.Orders.Data.Migrations
{
    /// <summary>
    /// Outbox rows are no longer announced by a trigger inside the writing transaction: the replica that
    /// committed them announces them afterwards (<c>OutboxAnnouncer</c>). A NOTIFY queued in a transaction
    /// makes its commit take PostgreSQL's server-wide notification lock through the WAL flush, which
    /// serialised every order's commit. The stock-release trigger stays: it fires only when a placement
    /// that lost Inventory expedites its guard.
    /// </summary>
    [DbContext(typeof(OrdersDbContext))]
    [Migration("20261201193000_OutboxAnnouncedAfterCommit")]
    public partial class OutboxAnnouncedAfterCommit : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER webhook_deliveries_notify ON webhook_deliveries;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE TRIGGER webhook_deliveries_notify AFTER INSERT ON webhook_deliveries
                    FOR EACH STATEMENT EXECUTE FUNCTION notify_work('webhook_outbox');
                """);
        }
    }
}
