using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Shop.Orders.Data.Migrations
{
    /// <summary>
    /// The webhook ordering rule stated once, as the view <c>webhook_deliveries_in_turn</c>: a pending delivery whose
    /// order has no earlier event pending for the same subscriber. The dispatcher's "which subscribers have a row due"
    /// query and <c>claim_webhook_deliveries</c> both read it, where each had its own copy of the condition. A view is
    /// expanded into the query that reads it, so both plans stay what they were.
    /// </summary>
    [DbContext(typeof(OrdersDbContext))]
    [Migration("20261204230000_WebhookDeliveriesInTurn")]
    public partial class WebhookDeliveriesInTurn : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Only the columns the readers need: a view over d.* would pin every column of the table.
            migrationBuilder.Sql("""
                CREATE VIEW webhook_deliveries_in_turn AS
                    SELECT d.id, d.subscription_id, d.order_id, d.next_attempt_at FROM webhook_deliveries d
                    WHERE d.status = 'pending'
                      AND NOT EXISTS (SELECT 1 FROM webhook_deliveries earlier
                                      WHERE earlier.order_id = d.order_id AND earlier.subscription_id = d.subscription_id
                                        AND earlier.status = 'pending' AND earlier.id < d.id);

                CREATE OR REPLACE FUNCTION claim_webhook_deliveries(p_subscription_id uuid, p_limit integer, p_lease_until timestamptz)
                RETURNS SETOF webhook_deliveries LANGUAGE sql AS $$
                    WITH picked AS MATERIALIZED (
                        SELECT d.id FROM webhook_deliveries_in_turn d
                        WHERE d.subscription_id = p_subscription_id AND d.next_attempt_at <= now()
                        ORDER BY d.next_attempt_at, d.id
                        LIMIT p_limit
                        FOR UPDATE SKIP LOCKED)
                    UPDATE webhook_deliveries w SET next_attempt_at = p_lease_until
                    FROM picked WHERE w.id = picked.id
                    RETURNING w.*
                $$;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // The function as WebhookClaimTakesItsLimit made it, with the condition written out again.
            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION claim_webhook_deliveries(p_subscription_id uuid, p_limit integer, p_lease_until timestamptz)
                RETURNS SETOF webhook_deliveries LANGUAGE sql AS $$
                    WITH picked AS MATERIALIZED (
                        SELECT d.id FROM webhook_deliveries d
                        WHERE d.subscription_id = p_subscription_id AND d.status = 'pending' AND d.next_attempt_at <= now()
                          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries earlier
                                          WHERE earlier.order_id = d.order_id AND earlier.subscription_id = d.subscription_id
                                            AND earlier.status = 'pending' AND earlier.id < d.id)
                        ORDER BY d.next_attempt_at, d.id
                        LIMIT p_limit
                        FOR UPDATE SKIP LOCKED)
                    UPDATE webhook_deliveries w SET next_attempt_at = p_lease_until
                    FROM picked WHERE w.id = picked.id
                    RETURNING w.*
                $$;

                DROP VIEW webhook_deliveries_in_turn;
                """);
        }
    }
}
