using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Shop.Orders.Data.Migrations
{
    /// <summary>
    /// The dispatcher sends each subscriber's deliveries in a lane of its own: it asks which subscribers have a
    /// row due (the earliest pending row per subscriber), and each lane claims its subscriber's due rows; both
    /// read the index by subscriber, which replaces the one by due time alone. A row waits while an earlier event
    /// of its order is pending, looked up by the index by order.
    /// </summary>
    [DbContext(typeof(OrdersDbContext))]
    [Migration("20261203190623_WebhookLanesBySubscriber")]
    public partial class WebhookLanesBySubscriber : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_webhook_deliveries_due",
                table: "webhook_deliveries");

            migrationBuilder.CreateIndex(
                name: "ix_webhook_deliveries_pending_by_order",
                table: "webhook_deliveries",
                column: "order_id",
                filter: "status = 'pending'");

            migrationBuilder.CreateIndex(
                name: "ix_webhook_deliveries_pending_by_subscription",
                table: "webhook_deliveries",
                columns: new[] { "subscription_id", "next_attempt_at" },
                filter: "status = 'pending'");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_webhook_deliveries_pending_by_order",
                table: "webhook_deliveries");

            migrationBuilder.DropIndex(
                name: "ix_webhook_deliveries_pending_by_subscription",
                table: "webhook_deliveries");

            migrationBuilder.CreateIndex(
                name: "ix_webhook_deliveries_due",
                table: "webhook_deliveries",
                column: "next_attempt_at",
                filter: "status = 'pending'");
        }
    }
}
