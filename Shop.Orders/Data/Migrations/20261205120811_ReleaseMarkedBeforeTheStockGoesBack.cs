using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Shop.Orders.Data.Migrations
{
    /// <summary>
    /// A release of an order's stock marks its <c>stock_releases</c> row first (<c>releasing</c>, committed) and
    /// <c>store_order</c> takes only an unmarked guard, so a release and a store of one order never both happen.
    /// Before, a release decided on "no order stored" and a store committing meanwhile (or a store whose commit
    /// succeeded but whose answer was lost, which the placement then released) both went through: an order stored
    /// with its stock given back (StockReleases.ReleaseAsync).
    /// </summary>
    public partial class ReleaseMarkedBeforeTheStockGoesBack : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "releasing",
                table: "stock_releases",
                type: "boolean",
                nullable: false,
                defaultValue: false);
            migrationBuilder.Sql("""
                CREATE FUNCTION take_stock_release_guard(p_order_id uuid) RETURNS boolean LANGUAGE plpgsql
                -- Through the key's index whatever the statistics say, as delete_stock_release (ReleaseGuardDeletedByKey).
                SET enable_seqscan = off AS $$
                BEGIN
                    DELETE FROM stock_releases WHERE order_id = p_order_id AND NOT releasing;
                    RETURN FOUND;
                END
                $$;
                """);
            migrationBuilder.Sql("""
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
                    -- Gone, or marked by a release under way, means the stock is (being) given back: the order must
                    -- not be stored without it.
                    IF NOT take_stock_release_guard(p_order_id) THEN
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
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(ReleaseGuardDeletedByKey.StoreOrderFunction);
            migrationBuilder.Sql("DROP FUNCTION take_stock_release_guard(uuid);");
            migrationBuilder.DropColumn(
                name: "releasing",
                table: "stock_releases");
        }
    }
}
