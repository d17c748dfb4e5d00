using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Shop.Orders.Data.Migrations
{
    /// <summary>
    /// A subscriber found unavailable is paused instead of every due delivery being tried against it: its
    /// deliveries wait until <c>paused_until</c>, then one goes out as a probe; the pause grows along the retry
    /// schedule with <c>unavailable_streak</c> and ends when an attempt gets through.
    /// </summary>
    public partial class WebhookSubscriberPause : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "paused_until",
                table: "webhook_subscriptions",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "unavailable_streak",
                table: "webhook_subscriptions",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddCheckConstraint(
                name: "ck_webhook_subscriptions_unavailable_streak",
                table: "webhook_subscriptions",
                sql: "unavailable_streak >= 0");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropCheckConstraint(
                name: "ck_webhook_subscriptions_unavailable_streak",
                table: "webhook_subscriptions");

            migrationBuilder.DropColumn(
                name: "paused_until",
                table: "webhook_subscriptions");

            migrationBuilder.DropColumn(
                name: "unavailable_streak",
                table: "webhook_subscriptions");
        }
    }
}
