using Microsoft.EntityFrameworkCore;

namespace Shop.Inventory.Data;

public sealed class InventoryDbContext(DbContextOptions<InventoryDbContext> options) : DbContext(options)
{
    public DbSet<InventoryItem> Items => Set<InventoryItem>();
    public DbSet<Reservation> Reservations => Set<Reservation>();
    public DbSet<ReservationLine> ReservationLines => Set<ReservationLine>();

    /// <summary>Every sku reachable as <c>/inventory/{sku}</c> (ItemValidation.IsAddressable says why).</summary>
    internal const string SkuAddressableSql = "sku NOT IN ('.', '..') AND lower(sku) <> 'healthz'";

    // Table, column and index names come from the snake_case convention (ShopDatabase.cs); only names that
    // differ from it are spelled out. Primary and foreign keys keep EF's default PK_/FK_ names, which the
    // schema already has.
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
                t.HasCheckConstraint("ck_inventory_sku_addressable", SkuAddressableSql);
            });
            e.HasKey(i => i.Id).HasName("PK_inventory");
            e.Property(i => i.Id).UseIdentityAlwaysColumn();
            e.Property(i => i.Sku).HasMaxLength(64);
            e.Property(i => i.Name).HasMaxLength(100);
            e.Property(i => i.Price).HasColumnType("numeric(12,2)");
            e.Property(i => i.CreatedAt).HasDefaultValueSql("now()");
            e.Property(i => i.UpdatedAt).HasDefaultValueSql("now()");
            e.HasIndex(i => i.Sku).IsUnique().HasDatabaseName("ux_inventory_sku");
            e.HasIndex(i => i.CreatedAt);
        });

        modelBuilder.Entity<Reservation>(e =>
        {
            e.ToTable(t => t.HasCheckConstraint("ck_reservations_status", "status IN ('reserved', 'released')"));
            e.HasKey(r => r.OrderId).HasName("PK_reservations");
            e.Property(r => r.OrderId).ValueGeneratedNever();
            e.Property(r => r.Status).HasMaxLength(16);
            e.Property(r => r.CreatedAt).HasDefaultValueSql("now()");
            e.HasMany(r => r.Lines).WithOne().HasForeignKey(l => l.OrderId).OnDelete(DeleteBehavior.Cascade)
                .HasConstraintName("FK_reservation_lines_reservations_order_id");
        });

        modelBuilder.Entity<ReservationLine>(e =>
        {
            e.ToTable(t => t.HasCheckConstraint("ck_reservation_lines_qty", "qty > 0"));
            e.HasKey(l => new { l.OrderId, l.Sku }).HasName("PK_reservation_lines");
            e.Property(l => l.Sku).HasMaxLength(64);
            e.Property(l => l.Name).HasMaxLength(100);
            e.Property(l => l.UnitPrice).HasColumnType("numeric(12,2)");
            e.HasIndex(l => l.Sku);
        });
    }
}
