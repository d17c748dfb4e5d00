using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Shop.Orders.Data.Migrations
{
    /// <summary>
    /// The database announces new background work, so every Orders replica's
    /// <c>DatabaseNotificationListener</c> wakes its workers instead of waiting for their poll. NOTIFY in a
    /// transaction is delivered at commit (never for a rollback) and identical notifications of one
    /// transaction are sent once, so an order with several outbox rows wakes each listener once.
    /// <list type="bullet">
    /// <item><c>webhook_outbox</c>: after any insert into <c>webhook_deliveries</c> (statement level; a
    /// retry's later attempt is an update, which the dispatcher schedules itself).</item>
    /// <item><c>stock_release_due</c>: when a row of <c>stock_releases</c> is moved forward to now or
    /// earlier (a placement that lost Inventory expedites its guard). A release inserted already due
    /// is tried at once by the process that wrote it, which wakes its own worker if that fails.</item>
    /// </list>
    /// The functions run with the rights of whoever writes the row (the service's role); <c>pg_notify</c>
    /// needs no grant.
    /// </summary>
    [DbContext(typeof(OrdersDbContext))]
    [Migration("20261201001000_WorkNotifications")]
    public partial class WorkNotifications : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                -- One function for every channel: the trigger names it (TG_ARGV[0]).
                CREATE FUNCTION notify_work() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_notify(TG_ARGV[0], '');
                    RETURN NULL;
                END
                $$;

                CREATE TRIGGER webhook_deliveries_notify AFTER INSERT ON webhook_deliveries
                    FOR EACH STATEMENT EXECUTE FUNCTION notify_work('webhook_outbox');

                -- clock_timestamp(), not now(): the due time comes from the writer's clock just before this
                -- statement, which now() (the transaction's start) may precede.
                CREATE TRIGGER stock_releases_notify_due AFTER UPDATE OF due_at ON stock_releases
                    FOR EACH ROW WHEN (NEW.due_at < OLD.due_at AND NEW.due_at <= clock_timestamp())
                    EXECUTE FUNCTION notify_work('stock_release_due');
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER stock_releases_notify_due ON stock_releases;
                DROP TRIGGER webhook_deliveries_notify ON webhook_deliveries;
                DROP FUNCTION notify_work();
                """);
        }
    }
}
