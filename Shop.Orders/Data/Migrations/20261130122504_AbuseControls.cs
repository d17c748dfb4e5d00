using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Shop.Orders.Data.Migrations
{
    /// <inheritdoc />
    public partial class AbuseControls : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropCheckConstraint(
                name: "ck_orders_status",
                table: "orders");

            migrationBuilder.AlterColumn<string>(
                name: "secret",
                table: "webhook_subscriptions",
                type: "character varying(200)",
                maxLength: 200,
                nullable: true,
                oldClrType: typeof(string),
                oldType: "character varying(200)",
                oldMaxLength: 200);

            migrationBuilder.AddColumn<DateTime>(
                name: "previous_secret_expires_at",
                table: "webhook_subscriptions",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "previous_secret_protected",
                table: "webhook_subscriptions",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "secret_protected",
                table: "webhook_subscriptions",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "expires_at",
                table: "orders",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "data_protection_keys",
                columns: table => new
                {
                    id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    friendly_name = table.Column<string>(type: "text", nullable: true),
                    xml = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_data_protection_keys", x => x.id);
                });

            migrationBuilder.AddCheckConstraint(
                name: "ck_webhook_subscriptions_one_secret",
                table: "webhook_subscriptions",
                sql: "(secret IS NULL) <> (secret_protected IS NULL)");

            migrationBuilder.CreateIndex(
                name: "ix_webhook_deliveries_finished_created_at",
                table: "webhook_deliveries",
                column: "created_at",
                filter: "status <> 'pending'");

            migrationBuilder.CreateIndex(
                name: "ix_orders_pending_expires_at",
                table: "orders",
                column: "expires_at",
                filter: "status = 'pending'");

            migrationBuilder.CreateIndex(
                name: "ix_orders_pending_user_id",
                table: "orders",
                column: "user_id",
                filter: "status = 'pending'");

            // Orders already pending get the default deadline from when they were placed: long-held ones
            // expire at the first sweep and give their stock back.
            migrationBuilder.Sql("UPDATE orders SET expires_at = created_at + interval '30 minutes' WHERE status = 'pending'");

            migrationBuilder.AddCheckConstraint(
                name: "ck_orders_pending_expires",
                table: "orders",
                sql: "status <> 'pending' OR expires_at IS NOT NULL");

            migrationBuilder.AddCheckConstraint(
                name: "ck_orders_status",
                table: "orders",
                sql: "status IN ('pending', 'paid', 'shipped', 'delivered', 'cancelled', 'expired')");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "data_protection_keys");

            migrationBuilder.DropCheckConstraint(
                name: "ck_webhook_subscriptions_one_secret",
                table: "webhook_subscriptions");

            migrationBuilder.DropIndex(
                name: "ix_webhook_deliveries_finished_created_at",
                table: "webhook_deliveries");

            migrationBuilder.DropIndex(
                name: "ix_orders_pending_expires_at",
                table: "orders");

            migrationBuilder.DropIndex(
                name: "ix_orders_pending_user_id",
                table: "orders");

            migrationBuilder.DropCheckConstraint(
                name: "ck_orders_pending_expires",
                table: "orders");

            migrationBuilder.DropCheckConstraint(
                name: "ck_orders_status",
                table: "orders");

            migrationBuilder.DropColumn(
                name: "previous_secret_expires_at",
                table: "webhook_subscriptions");

            migrationBuilder.DropColumn(
                name: "previous_secret_protected",
                table: "webhook_subscriptions");

            migrationBuilder.DropColumn(
                name: "secret_protected",
                table: "webhook_subscriptions");

            migrationBuilder.DropColumn(
                name: "expires_at",
                table: "orders");

            migrationBuilder.AlterColumn<string>(
                name: "secret",
                table: "webhook_subscriptions",
                type: "character varying(200)",
                maxLength: 200,
                nullable: false,
                defaultValue: "",
                oldClrType: typeof(string),
                oldType: "character varying(200)",
                oldMaxLength: 200,
                oldNullable: true);

            // The old schema has no "expired"; such orders had their stock returned, as cancelled ones have.
            migrationBuilder.Sql("UPDATE orders SET status = 'cancelled' WHERE status = 'expired'");

            migrationBuilder.AddCheckConstraint(
                name: "ck_orders_status",
                table: "orders",
                sql: "status IN ('pending', 'paid', 'shipped', 'delivered', 'cancelled')");
        }
    }
}
