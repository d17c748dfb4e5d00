using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Shop.Orders.Data.Migrations
{
    /// <summary>
    /// A webhook lane's claim as one function, <c>claim_webhook_deliveries</c>, that never takes more than its limit.
    /// The claim was <c>UPDATE … WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)</c>: under a plan that rescans
    /// the subquery for each row of the table (a nested-loop semi-join, which the planner may pick from the table's
    /// statistics), every rescan skips the rows the statement has already updated and locks the next, so a probe
    /// meant as one delivery went out as a whole batch. The rows are now chosen once, in a materialized CTE.
    /// </summary>
    [DbContext(typeof(OrdersDbContext))]
    [Migration("20261204210000_WebhookClaimTakesItsLimit")]
    public partial class WebhookClaimTakesItsLimit : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE FUNCTION claim_webhook_deliveries(p_subscription_id uuid, p_limit integer, p_lease_until timestamptz)
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
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP FUNCTION claim_webhook_deliveries(uuid, integer, timestamptz);");
        }
    }
}
