using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Shop.Orders.Data.Migrations
{
    /// <summary>
    /// A release guard is deleted through its key's index, always: <c>delete_stock_release</c>, which
    /// <c>store_order</c> and a refused placement call. Each order inserts a guard and deletes it, so between two
    /// autovacuum passes <c>stock_releases</c> fills with dead rows; after a pass it has dozens of pages, a handful
    /// of live rows and a primary key grown by the churn. From those statistics the planner costs a one-row lookup
    /// through that index above reading every page of the table, and picked a sequential scan for every guard
    /// deleted until the next pass (docs/performance.md, Rounds 18 and 31). A plan kept from a moment when the table
    /// was nearly empty did the same. The function turns sequential scans off for its one statement only.
    /// </summary>
    [DbContext(typeof(OrdersDbContext))]
    [Migration("20261205020000_ReleaseGuardDeletedByKey")]
    public partial class ReleaseGuardDeletedByKey : Migration
    {
        /// <summary>store_order as this migration defines it (ReleaseMarkedBeforeTheStockGoesBack restores it on the way down).</summary>
        internal const string StoreOrderFunction = """
                CREATE OR REPLACE FUNCTION store_order(
                    p_order_id uuid, p_user_id integer, p_status text, p_total numeric, p_items jsonb,
                    p_at timestamptz, p_expires_at timestamptz,
                    p_event_type text, p_event_description text,
                    p_webhook_event_type text, p_webhook_event_id uuid, p_webhook_payload text,
                    p_idempotency_key text, p_idempotent_status integer, p_idempotent_answer text)
                RETURNS integer LANGUAGE plpgsql AS $$
                -- Returns the number of webhook outbox rows written (the caller announces them after this commit).
                BEGIN
                    -- The guard is what lets the release worker give the stock back if the order is never stored.
                    -- Gone means the worker already did: the order must not be stored without its stock.
                    IF NOT delete_stock_release(p_order_id) THEN
                        RAISE EXCEPTION 'the stock reserved for order % was already given back', p_order_id
                            USING ERRCODE = 'object_not_in_prerequisite_state';
                    END IF;

                    -- Its pending-count trigger fails this insert past the user's cap (pending_orders_cap).
                    INSERT INTO orders (id, user_id, total, status, items, created_at, updated_at, expires_at)
                    VALUES (p_order_id, p_user_id, p_total, p_status, p_items, p_at, p_at, p_expires_at);

                    INSERT INTO order_events (order_id, event_type, description, new_value, user_id, created_at)
                    VALUES (p_order_id, p_event_type, p_event_description, p_status, p_user_id, p_at);

                    IF p_idempotency_key IS NOT NULL THEN
                        UPDATE idempotency_keys
                        SET state = 'completed', response_status = p_idempotent_status, response_body = p_idempotent_answer, updated_at = now()
                        WHERE user_id = p_user_id AND key = p_idempotency_key;
                        IF NOT FOUND THEN
                            RAISE EXCEPTION 'the Idempotency-Key of order % is no longer claimed', p_order_id
                                USING ERRCODE = 'object_not_in_prerequisite_state';
                        END IF;
                    END IF;

                    RETURN add_webhook_outbox_rows(p_webhook_event_type, p_webhook_event_id, p_order_id, p_webhook_payload, p_at);
                END
                $$;
            """;

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE FUNCTION delete_stock_release(p_order_id uuid) RETURNS boolean LANGUAGE plpgsql
                -- A key lookup reads two or three pages whatever the statistics say; a sequential scan reads them all.
                -- Set on this function alone: store_order's other statements keep the planner's own choices.
                SET enable_seqscan = off AS $$
                BEGIN
                    DELETE FROM stock_releases WHERE order_id = p_order_id;
                    RETURN FOUND;
                END
                $$;
                """);
            migrationBuilder.Sql(StoreOrderFunction);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP FUNCTION store_order(uuid, integer, text, numeric, jsonb, timestamptz, timestamptz, text, text, text, uuid, text, text, integer, text);");
            migrationBuilder.Sql(OrderStoredInOneStatement.StoreOrderFunction);
            migrationBuilder.Sql("DROP FUNCTION delete_stock_release(uuid);");
        }
    }
}
