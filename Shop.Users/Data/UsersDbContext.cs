using Microsoft.EntityFrameworkCore;

namespace Shop.Users.Data;

public sealed class UsersDbContext(DbContextOptions<UsersDbContext> options) : DbContext(options)
{
    public DbSet<User> Users => Set<User>();
    public DbSet<RefreshToken> RefreshTokens => Set<RefreshToken>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<User>(e =>
        {
            e.ToTable("users", t =>
            {
                t.HasCheckConstraint("ck_users_role", "role IN ('user', 'admin')");
                t.HasCheckConstraint("ck_users_name_length", "char_length(name) BETWEEN 1 AND 100");
            });
            e.HasKey(u => u.Id);
            e.Property(u => u.Id).HasColumnName("id").UseIdentityAlwaysColumn();
            e.Property(u => u.Name).HasColumnName("name").HasMaxLength(100);
            e.Property(u => u.Email).HasColumnName("email").HasMaxLength(254);
            e.Property(u => u.NormalizedEmail).HasColumnName("normalized_email").HasMaxLength(254);
            e.Property(u => u.PasswordHash).HasColumnName("password_hash");
            e.Property(u => u.Role).HasColumnName("role").HasMaxLength(16);
            e.Property(u => u.IsActive).HasColumnName("is_active");
            e.Property(u => u.CreatedAt).HasColumnName("created_at").HasDefaultValueSql("now()");
            e.Property(u => u.SecurityStamp).HasColumnName("security_stamp").HasDefaultValue(1)
                // Two concurrent changes must not both write the same next stamp (a token issued between them would survive the second).
                .IsConcurrencyToken();
            e.HasIndex(u => u.NormalizedEmail).IsUnique().HasDatabaseName("ux_users_normalized_email");
            e.HasIndex(u => u.CreatedAt).HasDatabaseName("ix_users_created_at");
        });

        modelBuilder.Entity<RefreshToken>(e =>
        {
            e.ToTable("refresh_tokens", t => t.HasCheckConstraint("ck_refresh_tokens_hash_length", "octet_length(token_hash) = 32"));
            e.HasKey(r => r.Id);
            e.Property(r => r.Id).HasColumnName("id");
            e.Property(r => r.FamilyId).HasColumnName("family_id");
            e.Property(r => r.UserId).HasColumnName("user_id");
            e.Property(r => r.TokenHash).HasColumnName("token_hash");
            e.Property(r => r.CreatedAt).HasColumnName("created_at");
            e.Property(r => r.ExpiresAt).HasColumnName("expires_at");
            e.Property(r => r.ConsumedAt).HasColumnName("consumed_at");
            e.Property(r => r.RevokedAt).HasColumnName("revoked_at");
            e.HasIndex(r => r.TokenHash).IsUnique().HasDatabaseName("ux_refresh_tokens_token_hash");
            e.HasIndex(r => r.FamilyId).HasDatabaseName("ix_refresh_tokens_family_id");
            e.HasIndex(r => r.UserId).HasDatabaseName("ix_refresh_tokens_user_id");
            e.HasOne<User>().WithMany().HasForeignKey(r => r.UserId).OnDelete(DeleteBehavior.Cascade).HasConstraintName("fk_refresh_tokens_users");
        });
    }
}
