using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Shop.Users.Data.Migrations
{
    /// <summary>
    /// Every raise of an account's security stamp records the stamp in <c>unpublished_stamps</c> (a trigger, in the raise's
    /// own statement) until Users has published it to Redis. Before, a stamp Redis did not take lived only in the memory
    /// of the Users process that raised it: a restart before Redis took writes again forgot it, Redis kept the older
    /// stamp, and every service accepted the account's older tokens until they expired.
    /// </summary>
    public partial class StampsRecordedUntilPublished : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "unpublished_stamps",
                columns: table => new
                {
                    user_id = table.Column<int>(type: "integer", nullable: false),
                    stamp = table.Column<int>(type: "integer", nullable: false),
                    raised_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()")
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_unpublished_stamps", x => x.user_id);
                    table.ForeignKey(
                        name: "fk_unpublished_stamps_users",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            // In the statement that raises the stamp, so no raise commits without its record, whichever path raised it.
            migrationBuilder.Sql("""
                CREATE FUNCTION record_unpublished_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO unpublished_stamps AS u (user_id, stamp, raised_at) VALUES (NEW.id, NEW.security_stamp, now())
                    ON CONFLICT (user_id) DO UPDATE SET stamp = greatest(u.stamp, excluded.stamp), raised_at = excluded.raised_at;
                    RETURN NULL;
                END
                $$;
                CREATE TRIGGER users_record_unpublished_stamp AFTER UPDATE OF security_stamp ON users
                    FOR EACH ROW WHEN (NEW.security_stamp > OLD.security_stamp) EXECUTE FUNCTION record_unpublished_stamp();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER users_record_unpublished_stamp ON users;
                DROP FUNCTION record_unpublished_stamp();
                """);

            migrationBuilder.DropTable(
                name: "unpublished_stamps");
        }
    }
}
