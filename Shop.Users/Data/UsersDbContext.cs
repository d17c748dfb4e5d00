using Microsoft.EntityFrameworkCore;

namespace Shop.Users.Data;

public sealed class UsersDbContext(DbContextOptions<UsersDbContext> options) : DbContext(options)
{
    public DbSet<User> Users => Set<User>();

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
            e.HasIndex(u => u.NormalizedEmail).IsUnique().HasDatabaseName("ux_users_normalized_email");
            e.HasIndex(u => u.CreatedAt).HasDatabaseName("ix_users_created_at");
        });
    }
}
