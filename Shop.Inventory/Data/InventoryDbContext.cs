using Microsoft.EntityFrameworkCore;

namespace Shop.Inventory.Data;

public sealed class InventoryDbContext(DbContextOptions<InventoryDbContext> options) : DbContext(options)
{
    public DbSet<InventoryItem> Items => Set<InventoryItem>();
    public DbSet<Reservation> Reservations => Set<Reservation>();
    public DbSet<ReservationLine> ReservationLines => Set<ReservationLine>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<InventoryItem>(e =>
        {
            e.ToTable("inventory", t =>
            {
                // Stock can never go negative, whatever the code does.
                t.HasCheckConstraint("ck_inventory_qty_non_negative", "qty >= 0");
                t.HasCheckConstraint("ck_inventory_price_non_negative", "price >= 0");
                t.HasCheckConstraint("ck_inventory_sku_format", "sku ~ '^[A-Za-z0-9._-]{1,64}$'");
            });
            e.HasKey(i => i.Id);
            e.Property(i => i.Id).HasColumnName("id").UseIdentityAlwaysColumn();
            e.Property(i => i.Sku).HasColumnName("sku").HasMaxLength(64);
            e.Property(i => i.Name).HasColumnName("name").HasMaxLength(100);
            e.Property(i => i.Price).HasColumnName("price").HasColumnType("numeric(12,2)");
            e.Property(i => i.Qty).HasColumnName("qty");
            e.Property(i => i.CreatedAt).HasColumnName("created_at").HasDefaultValueSql("now()");
            e.Property(i => i.UpdatedAt).HasColumnName("updated_at").HasDefaultValueSql("now()");
            e.HasIndex(i => i.Sku).IsUnique().HasDatabaseName("ux_inventory_sku");
            e.HasIndex(i => i.CreatedAt).HasDatabaseName("ix_inventory_created_at");
        });

        modelBuilder.Entity<Reservation>(e =>
        {
            e.ToTable("reservations", t => t.HasCheckConstraint("ck_reservations_status", "status IN ('reserved', 'released')"));
            e.HasKey(r => r.OrderId);
            e.Property(r => r.OrderId).HasColumnName("order_id").ValueGeneratedNever();
            e.Property(r => r.Status).HasColumnName("status").HasMaxLength(16);
            e.Property(r => r.CreatedAt).HasColumnName("created_at").HasDefaultValueSql("now()");
            e.Property(r => r.ReleasedAt).HasColumnName("released_at");
            e.HasMany(r => r.Lines).WithOne().HasForeignKey(l => l.OrderId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<ReservationLine>(e =>
        {
            e.ToTable("reservation_lines", t => t.HasCheckConstraint("ck_reservation_lines_qty", "qty > 0"));
            e.HasKey(l => new { l.OrderId, l.Sku });
            e.Property(l => l.OrderId).HasColumnName("order_id");
            e.Property(l => l.Sku).HasColumnName("sku").HasMaxLength(64);
            e.Property(l => l.Name).HasColumnName("name").HasMaxLength(100);
            e.Property(l => l.Qty).HasColumnName("qty");
            e.Property(l => l.UnitPrice).HasColumnName("unit_price").HasColumnType("numeric(12,2)");
            e.HasIndex(l => l.Sku).HasDatabaseName("ix_reservation_lines_sku");
        });
    }
}
