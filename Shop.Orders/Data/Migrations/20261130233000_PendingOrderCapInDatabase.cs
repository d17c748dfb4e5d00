using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Shop.Orders.Data.Migrations
{
    /// <summary>
    /// The pending-orders cap moves into the trigger that keeps each user's count: the increment that would
    /// take a user past the cap fails the insert (<c>check_violation</c> on <c>pending_orders_cap</c>). The
    /// increment's row lock already serialises one user's placements, so the cap holds under any race
    /// without a separate locked read; the cap comes from the session setting
    /// <c>shop.max_pending_orders_per_user</c>, which the Orders service sets on its connections (a session
    /// without it, such as a migration or an operator's psql, is not capped).
    /// </summary>
    [DbContext(typeof(OrdersDbContext))]
    [Migration("20261130233000_PendingOrderCapInDatabase")]
    public partial class PendingOrderCapInDatabase : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION count_pending_orders() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE
                    now_pending integer;
                    cap integer := nullif(current_setting('shop.max_pending_orders_per_user', true), '')::integer;
                BEGIN
                    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'pending' THEN
                        UPDATE pending_order_counts SET pending = pending - 1 WHERE user_id = OLD.user_id;
                    END IF;
                    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'pending' THEN
                        INSERT INTO pending_order_counts AS c (user_id, pending) VALUES (NEW.user_id, 1)
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
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION count_pending_orders() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'pending' THEN
                        UPDATE pending_order_counts SET pending = pending - 1 WHERE user_id = OLD.user_id;
                    END IF;
                    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'pending' THEN
                        INSERT INTO pending_order_counts AS c (user_id, pending) VALUES (NEW.user_id, 1)
                        ON CONFLICT (user_id) DO UPDATE SET pending = c.pending + 1;
                    END IF;
                    RETURN NULL;
                END
                $$;
                """);
        }
    }
}
