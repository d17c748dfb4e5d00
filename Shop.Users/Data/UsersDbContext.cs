using Microsoft.EntityFrameworkCore;

namespace Shop.Users.Data;

public sealed class UsersDbContext(DbContextOptions<UsersDbContext> options) : DbContext(options)
{
    public DbSet<User> Users => Set<User>();
    public DbSet<RefreshToken> RefreshTokens => Set<RefreshToken>();
    public DbSet<UnpublishedStamp> UnpublishedStamps => Set<UnpublishedStamp>();

    // Table, column and index names come from the snake_case convention (ShopDatabase.cs); only names that
    // differ from it are spelled out. Primary and foreign keys keep EF's default PK_/FK_ names, which the
    // schema already has.
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<User>(e =>
        {
            e.ToTable(t =>
            {
                t.HasCheckConstraint("ck_users_role", "role IN ('user', 'admin')");
                t.HasCheckConstraint("ck_users_name_length", "char_length(name) BETWEEN 1 AND 100");
            });
            e.HasKey(u => u.Id).HasName("PK_users");
            e.Property(u => u.Id).UseIdentityAlwaysColumn();
            e.Property(u => u.Name).HasMaxLength(100);
            e.Property(u => u.Email).HasMaxLength(254);
            e.Property(u => u.NormalizedEmail).HasMaxLength(254);
            e.Property(u => u.Role).HasMaxLength(16);
            e.Property(u => u.CreatedAt).HasDefaultValueSql("now()");
            e.Property(u => u.SecurityStamp).HasDefaultValue(1)
                // Two concurrent changes must not both write the same next stamp (a token issued between them would survive the second).
                .IsConcurrencyToken();
            e.HasIndex(u => u.NormalizedEmail).IsUnique().HasDatabaseName("ux_users_normalized_email");
            e.HasIndex(u => u.CreatedAt);
        });

        modelBuilder.Entity<RefreshToken>(e =>
        {
            e.ToTable(t => t.HasCheckConstraint("ck_refresh_tokens_hash_length", "octet_length(token_hash) = 32"));
            e.HasKey(r => r.Id).HasName("PK_refresh_tokens");
            e.HasIndex(r => r.TokenHash).IsUnique().HasDatabaseName("ux_refresh_tokens_token_hash");
            e.HasIndex(r => r.FamilyId);
            e.HasIndex(r => r.UserId);
            e.HasOne<User>().WithMany().HasForeignKey(r => r.UserId).OnDelete(DeleteBehavior.Cascade).HasConstraintName("fk_refresh_tokens_users");
        });

        modelBuilder.Entity<UnpublishedStamp>(e =>
        {
            e.ToTable("unpublished_stamps");
            // One row per account: a later raise only raises its stamp (the trigger's upsert).
            e.HasKey(u => u.UserId).HasName("PK_unpublished_stamps");
            e.Property(u => u.UserId).ValueGeneratedNever();
            e.Property(u => u.RaisedAt).HasDefaultValueSql("now()");
            e.HasOne<User>().WithMany().HasForeignKey(u => u.UserId).OnDelete(DeleteBehavior.Cascade).HasConstraintName("fk_unpublished_stamps_users");
        });
    }
}
