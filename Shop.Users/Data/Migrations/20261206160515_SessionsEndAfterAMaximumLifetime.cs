using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Shop.Users.Data.Migrations
{
    /// <summary>
    /// Each refresh token carries when its session signed in, so that a session refreshed again and again still ends
    /// <c>Jwt:SessionMaxLifetime</c> after it (ASVS 5.0 V7.3.2); before, every refresh gave it another
    /// <c>Jwt:RefreshLifetime</c>, and a stolen refresh token used regularly kept its session for ever. A session
    /// already under way counts from its earliest token still stored, the best record of its sign-in left (an
    /// account's expired tokens are deleted at its next sign-in): one known to be older than the limit ends at its
    /// next refresh, the others keep what remains of theirs.
    /// </summary>
    public partial class SessionsEndAfterAMaximumLifetime : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "session_started_at",
                table: "refresh_tokens",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.Sql("""
                UPDATE refresh_tokens AS r SET session_started_at = f.started
                FROM (SELECT family_id, min(created_at) AS started FROM refresh_tokens GROUP BY family_id) AS f
                WHERE r.family_id = f.family_id;
                """);

            migrationBuilder.AlterColumn<DateTime>(
                name: "session_started_at",
                table: "refresh_tokens",
                type: "timestamp with time zone",
                nullable: false,
                oldClrType: typeof(DateTime),
                oldType: "timestamp with time zone",
                oldNullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "session_started_at",
                table: "refresh_tokens");
        }
    }
}
