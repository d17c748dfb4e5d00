using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Shop.Users.Data.Migrations
{
    /// <summary>
    /// The function that records a raised stamp (<see cref="StampsRecordedUntilPublished"/>) names its table with the
    /// schema Users' tables are in, <c>public</c>. Unqualified, the table was looked up through the search_path of the
    /// session that raised the stamp: under one that leaves out public (a role's or a pooler's setting) every raise
    /// failed with "relation unpublished_stamps does not exist".
    /// </summary>
    [DbContext(typeof(UsersDbContext))]
    [Migration("20261206101500_StampRecordNamesItsSchema")]
    public partial class StampRecordNamesItsSchema : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder) => migrationBuilder.Sql(RecordFunction("public.unpublished_stamps"));

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder) => migrationBuilder.Sql(RecordFunction("unpublished_stamps"));

        /// <summary>The trigger keeps pointing at the function: it is replaced, not dropped.</summary>
        private static string RecordFunction(string table) => $$"""
            CREATE OR REPLACE FUNCTION public.record_unpublished_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO {{table}} AS u (user_id, stamp, raised_at) VALUES (NEW.id, NEW.security_stamp, now())
                ON CONFLICT (user_id) DO UPDATE SET stamp = greatest(u.stamp, excluded.stamp), raised_at = excluded.raised_at;
                RETURN NULL;
            END
            $$;
            """;
    }
}
