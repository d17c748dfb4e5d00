using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Shop.Orders.Data.Migrations
{
    /// <summary>
    /// Each user's number of pending orders, kept by a trigger on <c>orders</c> for every insert, status change
    /// and delete, so the cap check reads one row instead of counting the user's pending orders, and its row
    /// lock serialises one user's placements (it replaces an advisory lock and a count).
    /// </summary>
    [DbContext(typeof(OrdersDbContext))]
    [Migration("20261130180500_PendingOrderCounts")]
    public partial class PendingOrderCounts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE TABLE pending_order_counts (
                    user_id integer PRIMARY KEY,
                    pending integer NOT NULL CONSTRAINT ck_pending_order_counts_pending CHECK (pending >= 0)
                );

                CREATE FUNCTION count_pending_orders() RETURNS trigger LANGUAGE plpgsql AS $$
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

                CREATE TRIGGER orders_count_pending
                    AFTER INSERT OR DELETE OR UPDATE OF status, user_id ON orders
                    FOR EACH ROW EXECUTE FUNCTION count_pending_orders();

                INSERT INTO pending_order_counts (user_id, pending)
                SELECT user_id, count(*) FROM orders WHERE status = 'pending' GROUP BY user_id;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER orders_count_pending ON orders;
                DROP FUNCTION count_pending_orders();
                DROP TABLE pending_order_counts;
                """);
        }
    }
}
