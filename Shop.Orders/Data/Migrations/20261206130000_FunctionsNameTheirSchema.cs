using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Shop.Orders.Data.Migrations
{
    /// <summary>
    /// Orders' functions name the tables, the view and the functions they use with the schema Orders' tables are in,
    /// <c>public</c>. Unqualified, those names were looked up through the search_path of the session that ran them:
    /// under one that leaves out public (a role's or a pooler's setting) every write of a pending order failed in the
    /// trigger <c>count_pending_orders</c> ("relation pending_order_counts does not exist"), and so did storing an
    /// order, dropping its release guard and a webhook lane's claim. Each is replaced (CREATE OR REPLACE, so the
    /// trigger and the grants keep pointing at it) with its latest definition, <c>public.</c> added and nothing else
    /// changed. <c>notify_work</c> names nothing but <c>pg_notify</c>, which pg_catalog always finds. Down restores
    /// the unqualified definitions.
    /// </summary>
    [DbContext(typeof(OrdersDbContext))]
    [Migration("20261206130000_FunctionsNameTheirSchema")]
    public partial class FunctionsNameTheirSchema : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder) => Replace(migrationBuilder, "public.");

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder) => Replace(migrationBuilder, "");

        /// <summary>
        /// Every function, each as the latest migration defined it (PendingOrderCapInDatabase, OrderStoredInOneStatement,
        /// ReleaseMarkedBeforeTheStockGoesBack, WebhookLeaseOutsideTheIndexes, ReleaseGuardDeletedByKey), with
        /// <paramref name="s"/> before each name it uses. Callees before their callers.
        /// </summary>
        private static void Replace(MigrationBuilder migrationBuilder, string s)
        {
            migrationBuilder.Sql(CountPendingOrders(s));
            migrationBuilder.Sql(AddWebhookOutboxRows(s));
            migrationBuilder.Sql(DeleteStockRelease(s));
            migrationBuilder.Sql(TakeStockReleaseGuard(s));
            migrationBuilder.Sql(StoreOrder(s));
            migrationBuilder.Sql(ClaimWebhookDeliveries(s));
        }

        private static string CountPendingOrders(string s) => $$"""
            CREATE OR REPLACE FUNCTION public.count_pending_orders() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
                now_pending integer;
                cap integer := nullif(current_setting('shop.max_pending_orders_per_user', true), '')::integer;
            BEGIN
                IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'pending' THEN
                    UPDATE {{s}}pending_order_counts SET pending = pending - 1 WHERE user_id = OLD.user_id;
                END IF;
                IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'pending' THEN
                    INSERT INTO {{s}}pending_order_counts AS c (user_id, pending) VALUES (NEW.user_id, 1)
                    ON CONFLICT (user_id) DO UPDATE SET pending = c.pending + 1
                    RETURNING pending INTO now_pending;
                    IF now_pending > cap THEN
                        RAISE EXCEPTION 'user % would hold % pending orders; the cap is %', NEW.user_id, now_pending, cap
                            USING ERRCODE = 'check_violation', CONSTRAINT = 'pending_orders_cap', TABLE = 'orders';
                    END IF;
                END IF;
                RETURN NULL;
            END
            $$;
            """;

        private static string AddWebhookOutboxRows(string s) => $$"""
            CREATE OR REPLACE FUNCTION public.add_webhook_outbox_rows(
                p_event_type text, p_event_id uuid, p_order_id uuid, p_payload text, p_at timestamptz)
            RETURNS integer LANGUAGE plpgsql AS $$
            DECLARE
                written integer;
            BEGIN
                -- FOR KEY SHARE: a subscription deleted meanwhile waits for this transaction's commit instead
                -- of failing the insert (and with it the order) on the foreign key.
                INSERT INTO {{s}}webhook_deliveries (subscription_id, event_id, event_type, order_id, payload, status, attempts, next_attempt_at, created_at)
                SELECT s.id, p_event_id, p_event_type, p_order_id, p_payload, 'pending', 0, p_at, p_at
                FROM {{s}}webhook_subscriptions AS s
                WHERE s.is_active AND (s.events @> ARRAY['*']::text[] OR s.events @> ARRAY[p_event_type])
                FOR KEY SHARE;
                GET DIAGNOSTICS written = ROW_COUNT;
                RETURN written;
            END
            $$;
            """;

        private static string DeleteStockRelease(string s) => $$"""
            CREATE OR REPLACE FUNCTION public.delete_stock_release(p_order_id uuid) RETURNS boolean LANGUAGE plpgsql
            -- Through the key's index whatever the statistics say (ReleaseGuardDeletedByKey).
            SET enable_seqscan = off AS $$
            BEGIN
                DELETE FROM {{s}}stock_releases WHERE order_id = p_order_id;
                RETURN FOUND;
            END
            $$;
            """;

        private static string TakeStockReleaseGuard(string s) => $$"""
            CREATE OR REPLACE FUNCTION public.take_stock_release_guard(p_order_id uuid) RETURNS boolean LANGUAGE plpgsql
            -- Through the key's index whatever the statistics say, as delete_stock_release (ReleaseGuardDeletedByKey).
            SET enable_seqscan = off AS $$
            BEGIN
                DELETE FROM {{s}}stock_releases WHERE order_id = p_order_id AND NOT releasing;
                RETURN FOUND;
            END
            $$;
            """;

        private static string StoreOrder(string s) => $$"""
            CREATE OR REPLACE FUNCTION public.store_order(
                p_order_id uuid, p_user_id integer, p_status text, p_total numeric, p_items jsonb,
                p_at timestamptz, p_expires_at timestamptz,
                p_event_type text, p_event_description text,
                p_webhook_event_type text, p_webhook_event_id uuid, p_webhook_payload text,
                p_idempotency_key text, p_idempotent_status integer, p_idempotent_answer text)
            RETURNS integer LANGUAGE plpgsql AS $$
            -- Returns the number of webhook outbox rows written (the caller announces them after this commit).
            BEGIN
                -- The guard is what lets the release worker give the stock back if the order is never stored.
                -- Gone, or marked by a release under way, means the stock is (being) given back: the order must
                -- not be stored without it.
                IF NOT {{s}}take_stock_release_guard(p_order_id) THEN
                    RAISE EXCEPTION 'the stock reserved for order % was already given back', p_order_id
                        USING ERRCODE = 'object_not_in_prerequisite_state';
                END IF;

                -- Its pending-count trigger fails this insert past the user's cap (pending_orders_cap).
                INSERT INTO {{s}}orders (id, user_id, total, status, items, created_at, updated_at, expires_at)
                VALUES (p_order_id, p_user_id, p_total, p_status, p_items, p_at, p_at, p_expires_at);

                INSERT INTO {{s}}order_events (order_id, event_type, description, new_value, user_id, created_at)
                VALUES (p_order_id, p_event_type, p_event_description, p_status, p_user_id, p_at);

                IF p_idempotency_key IS NOT NULL THEN
                    UPDATE {{s}}idempotency_keys
                    SET state = 'completed', response_status = p_idempotent_status, response_body = p_idempotent_answer, updated_at = now()
                    WHERE user_id = p_user_id AND key = p_idempotency_key;
                    IF NOT FOUND THEN
                        RAISE EXCEPTION 'the Idempotency-Key of order % is no longer claimed', p_order_id
                            USING ERRCODE = 'object_not_in_prerequisite_state';
                    END IF;
                END IF;

                RETURN {{s}}add_webhook_outbox_rows(p_webhook_event_type, p_webhook_event_id, p_order_id, p_webhook_payload, p_at);
            END
            $$;
            """;

        /// <summary>The return type is bound when the function is created; only the body is looked up at each call.</summary>
        private static string ClaimWebhookDeliveries(string s) => $$"""
            CREATE OR REPLACE FUNCTION public.claim_webhook_deliveries(p_subscription_id uuid, p_limit integer, p_lease_until timestamptz)
            RETURNS SETOF public.webhook_deliveries LANGUAGE sql AS $$
                WITH picked AS MATERIALIZED (
                    SELECT d.id FROM {{s}}webhook_deliveries_claimable d
                    WHERE d.subscription_id = p_subscription_id AND d.next_attempt_at <= now()
                    ORDER BY d.next_attempt_at, d.id
                    LIMIT p_limit
                    FOR UPDATE SKIP LOCKED)
                UPDATE {{s}}webhook_deliveries w SET leased_until = p_lease_until
                FROM picked WHERE w.id = picked.id
                RETURNING w.*
            $$;
            """;
    }
}
