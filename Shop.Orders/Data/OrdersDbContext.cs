using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace Shop.Orders.Data;

public sealed class OrdersDbContext(DbContextOptions<OrdersDbContext> options) : DbContext(options), IDataProtectionKeyContext
{
    public DbSet<Order> Orders => Set<Order>();
    public DbSet<OrderEvent> OrderEvents => Set<OrderEvent>();
    public DbSet<IdempotencyRecord> IdempotencyKeys => Set<IdempotencyRecord>();
    public DbSet<StockRelease> StockReleases => Set<StockRelease>();
    public DbSet<WebhookSubscription> WebhookSubscriptions => Set<WebhookSubscription>();
    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();

    /// <summary>The Data Protection key ring that encrypts webhook secrets, shared by every Orders replica.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    // Table, column and index names come from the snake_case convention (ShopDatabase.cs); only names that
    // differ from it are spelled out. Primary and foreign keys keep EF's default PK_/FK_ names, which the
    // schema already has.
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Order>(e =>
        {
            e.ToTable(t =>
            {
                t.HasCheckConstraint("ck_orders_status", "status IN ('pending', 'paid', 'shipped', 'delivered', 'cancelled', 'expired')");
                t.HasCheckConstraint("ck_orders_total_non_negative", "total >= 0");
                // A pending order always has a deadline, or the expiry job would never give its stock back.
                t.HasCheckConstraint("ck_orders_pending_expires", "status <> 'pending' OR expires_at IS NOT NULL");
            });
            e.HasKey(o => o.Id).HasName("PK_orders");
            e.Property(o => o.Id).ValueGeneratedNever();
            e.Property(o => o.Total).HasColumnType("numeric(12,2)");
            e.Property(o => o.Status).HasMaxLength(16);
            e.OwnsMany(o => o.Items, items => items.ToJson("items"));
            e.HasIndex(o => new { o.UserId, o.CreatedAt }).IsDescending(false, true);
            e.HasIndex(o => o.Status);
            e.HasIndex(o => o.CreatedAt).IsDescending();
            // The expiry job's scan, and the per-user pending count: only pending rows.
            e.HasIndex(o => o.ExpiresAt).HasFilter("status = 'pending'").HasDatabaseName("ix_orders_pending_expires_at");
            e.HasIndex(o => o.UserId).HasFilter("status = 'pending'").HasDatabaseName("ix_orders_pending_user_id");
        });

        modelBuilder.Entity<OrderEvent>(e =>
        {
            e.HasKey(x => x.Id).HasName("PK_order_events");
            e.Property(x => x.Id).UseIdentityAlwaysColumn();
            e.Property(x => x.EventType).HasMaxLength(32);
            e.Property(x => x.Description).HasMaxLength(500);
            e.Property(x => x.OldValue).HasMaxLength(100);
            e.Property(x => x.NewValue).HasMaxLength(100);
            e.HasOne<Order>().WithMany().HasForeignKey(x => x.OrderId).OnDelete(DeleteBehavior.Cascade)
                .HasConstraintName("FK_order_events_orders_order_id");
            e.HasIndex(x => x.OrderId);
        });

        modelBuilder.Entity<IdempotencyRecord>(e =>
        {
            e.ToTable(t => t.HasCheckConstraint("ck_idempotency_keys_state", "state IN ('processing', 'completed')"));
            e.HasKey(x => new { x.UserId, x.Key }).HasName("PK_idempotency_keys");
            e.Property(x => x.Key).HasMaxLength(255);
            e.Property(x => x.RequestHash).HasMaxLength(64);
            e.Property(x => x.State).HasMaxLength(16);
            e.HasIndex(x => x.CreatedAt);
        });

        modelBuilder.Entity<StockRelease>(e =>
        {
            e.HasKey(x => x.OrderId).HasName("PK_stock_releases");
            e.Property(x => x.OrderId).ValueGeneratedNever();
            e.HasIndex(x => x.DueAt);
        });

        modelBuilder.Entity<WebhookSubscription>(e =>
        {
            // Exactly one form of the secret: encrypted, or plaintext from an older version awaiting encryption.
            e.ToTable(t =>
            {
                t.HasCheckConstraint("ck_webhook_subscriptions_one_secret", "(secret IS NULL) <> (secret_protected IS NULL)");
                t.HasCheckConstraint("ck_webhook_subscriptions_unavailable_streak", "unavailable_streak >= 0");
            });
            e.HasKey(x => x.Id).HasName("PK_webhook_subscriptions");
            e.Property(x => x.Id).ValueGeneratedNever();
            e.Property(x => x.Url).HasMaxLength(2048);
            e.Property(x => x.LegacySecret).HasColumnName("secret").HasMaxLength(200);
            e.Property(x => x.ProtectedSecret).HasColumnName("secret_protected");
            e.Property(x => x.PreviousProtectedSecret).HasColumnName("previous_secret_protected");
        });

        modelBuilder.Entity<WebhookDelivery>(e =>
        {
            e.ToTable(t => t.HasCheckConstraint("ck_webhook_deliveries_status", "status IN ('pending', 'delivered', 'failed')"));
            // A tenth of each page kept free for a claim's new row version: an update that changes no indexed column
            // and fits on its page adds no index entries (a HOT update). 70 made the order series slower in four
            // alternated pairs of four (docs/performance.md, Round 33).
            e.HasStorageParameter("fillfactor", 90);
            e.HasKey(x => x.Id).HasName("PK_webhook_deliveries");
            e.Property(x => x.Id).UseIdentityAlwaysColumn();
            e.Property(x => x.EventType).HasMaxLength(64);
            e.Property(x => x.Status).HasMaxLength(16);
            e.Property(x => x.LastError).HasMaxLength(500);
            e.HasOne<WebhookSubscription>().WithMany().HasForeignKey(x => x.SubscriptionId).OnDelete(DeleteBehavior.Cascade)
                .HasConstraintName("FK_webhook_deliveries_webhook_subscriptions_subscription_id");
            e.HasIndex(x => new { x.SubscriptionId, x.Id }).HasDatabaseName("ix_webhook_deliveries_subscription");
            // The dispatcher's scans, only rows still to send: which subscribers have a row due, and a lane's claim.
            e.HasIndex(x => new { x.SubscriptionId, x.NextAttemptAt }).HasFilter("status = 'pending'").HasDatabaseName("ix_webhook_deliveries_pending_by_subscription");
            // A row waits while an earlier event of its order is pending (the view webhook_deliveries_claimable).
            e.HasIndex(x => x.OrderId).HasFilter("status = 'pending'").HasDatabaseName("ix_webhook_deliveries_pending_by_order");
            // The retention job's scan: only rows that are done.
            e.HasIndex(x => x.CreatedAt).HasFilter("status <> 'pending'").HasDatabaseName("ix_webhook_deliveries_finished_created_at");
        });

        modelBuilder.Entity<DataProtectionKey>().HasKey(x => x.Id).HasName("PK_data_protection_keys");
    }
}
