using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Shop.Orders.Data.Migrations
{
    /// <summary>
    /// A lane's lease in a column of its own, <c>leased_until</c>, which no index names. The claim used to move
    /// <c>next_attempt_at</c> to the lease's end; that column is in <c>ix_webhook_deliveries_pending_by_subscription</c>,
    /// so every claim wrote a new row version with an entry in each of the table's four indexes that cover a pending row
    /// (docs/performance.md, Round 32: 11.2 index entries and 1.9 non-HOT updates per delivery). Now a claim changes no
    /// indexed column and, with room left on the page (<c>fillfactor</c> 90), is a HOT update. The view
    /// <c>webhook_deliveries_claimable</c> (was <c>webhook_deliveries_in_turn</c>) adds "not leased" to the ordering
    /// rule, so the dispatcher's "which subscribers have a row due" and the claim still read one definition.
    /// During a rolling upgrade a replica still on the old code leaves <c>leased_until</c> set when it records an
    /// outcome; such a row waits for that lease (at most <c>Webhooks:ClaimLease</c>) before its next attempt.
    /// </summary>
    public partial class WebhookLeaseOutsideTheIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterTable(
                name: "webhook_deliveries")
                .Annotation("Npgsql:StorageParameter:fillfactor", 90);

            migrationBuilder.AddColumn<DateTime>(
                name: "leased_until",
                table: "webhook_deliveries",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.Sql("""
                DROP VIEW webhook_deliveries_in_turn;

                -- Pending rows a lane may claim now or when due: not leased by a lane (any replica's), and in turn, that
                -- is, no earlier event of the order is pending for the subscriber (leased or not). Only the columns
                -- the readers need: a view over d.* would pin every column of the table.
                CREATE VIEW webhook_deliveries_claimable AS
                    SELECT d.id, d.subscription_id, d.order_id, d.next_attempt_at FROM webhook_deliveries d
                    WHERE d.status = 'pending'
                      AND (d.leased_until IS NULL OR d.leased_until <= now())
                      AND NOT EXISTS (SELECT 1 FROM webhook_deliveries earlier
                                      WHERE earlier.order_id = d.order_id AND earlier.subscription_id = d.subscription_id
                                        AND earlier.status = 'pending' AND earlier.id < d.id);

                CREATE OR REPLACE FUNCTION claim_webhook_deliveries(p_subscription_id uuid, p_limit integer, p_lease_until timestamptz)
                RETURNS SETOF webhook_deliveries LANGUAGE sql AS $$
                    WITH picked AS MATERIALIZED (
                        SELECT d.id FROM webhook_deliveries_claimable d
                        WHERE d.subscription_id = p_subscription_id AND d.next_attempt_at <= now()
                        ORDER BY d.next_attempt_at, d.id
                        LIMIT p_limit
                        FOR UPDATE SKIP LOCKED)
                    UPDATE webhook_deliveries w SET leased_until = p_lease_until
                    FROM picked WHERE w.id = picked.id
                    RETURNING w.*
                $$;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // The view and the claim as WebhookDeliveriesInTurn made them; a lease still running moves to next_attempt_at.
            migrationBuilder.Sql("""
                DROP VIEW webhook_deliveries_claimable;

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

                UPDATE webhook_deliveries SET next_attempt_at = leased_until
                WHERE status = 'pending' AND leased_until > next_attempt_at;
                """);

            migrationBuilder.DropColumn(
                name: "leased_until",
                table: "webhook_deliveries");

            migrationBuilder.AlterTable(
                name: "webhook_deliveries")
                .OldAnnotation("Npgsql:StorageParameter:fillfactor", 90);
        }
    }
}
