using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Shop.Orders.Data.Migrations
{
    /// <summary>
    /// A placed order is stored by one statement, <c>store_order</c>: the release guard's deletion, the order,
    /// its <c>created</c> event, its webhook outbox rows and the Idempotency-Key's answer, in the implicit
    /// transaction of that one statement. The order's transaction used to span three round trips (the
    /// subscriptions' read, the batch, the commit) while holding the user's pending-count row lock, paced by the
    /// Orders process between them. <c>add_webhook_outbox_rows</c> is the one place that decides which
    /// subscriptions an event goes to; the status change and the expiry call it inside their transactions.
    /// </summary>
    [DbContext(typeof(OrdersDbContext))]
    [Migration("20261201220000_OrderStoredInOneStatement")]
    public partial class OrderStoredInOneStatement : Migration
    {
        /// <summary><c>store_order</c> as this migration defines it; <c>ReleaseGuardDeletedByKey</c>'s Down restores it.</summary>
        internal const string StoreOrderFunction = """
        CREATE FUNCTION store_order(
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
            DELETE FROM stock_releases WHERE order_id = p_order_id;
            IF NOT FOUND THEN
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
                CREATE FUNCTION add_webhook_outbox_rows(
                    p_event_type text, p_event_id uuid, p_order_id uuid, p_payload text, p_at timestamptz)
                RETURNS integer LANGUAGE plpgsql AS $$
                DECLARE
                    written integer;
                BEGIN
                    -- FOR KEY SHARE: a subscription deleted meanwhile waits for this transaction's commit instead
                    -- of failing the insert (and with it the order) on the foreign key.
                    INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, order_id, payload, status, attempts, next_attempt_at, created_at)
                    SELECT s.id, p_event_id, p_event_type, p_order_id, p_payload, 'pending', 0, p_at, p_at
                    FROM webhook_subscriptions AS s
                    WHERE s.is_active AND (s.events @> ARRAY['*']::text[] OR s.events @> ARRAY[p_event_type])
                    FOR KEY SHARE;
                    GET DIAGNOSTICS written = ROW_COUNT;
                    RETURN written;
                END
                $$;
                """);
            migrationBuilder.Sql(StoreOrderFunction);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP FUNCTION store_order(uuid, integer, text, numeric, jsonb, timestamptz, timestamptz, text, text, text, uuid, text, text, integer, text);");
            migrationBuilder.Sql("DROP FUNCTION add_webhook_outbox_rows(text, uuid, uuid, text, timestamptz);");
        }
    }
}
