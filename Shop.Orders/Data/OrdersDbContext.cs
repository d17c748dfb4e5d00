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

    /// <summary>Outbox rows were added since the last commit (<c>OutboxCommitInterceptor</c> wakes the dispatcher after it).</summary>
    internal bool OutboxWritten { get; set; }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Order>(e =>
        {
            e.ToTable("orders", t =>
            {
                t.HasCheckConstraint("ck_orders_status", "status IN ('pending', 'paid', 'shipped', 'delivered', 'cancelled', 'expired')");
                t.HasCheckConstraint("ck_orders_total_non_negative", "total >= 0");
                // A pending order always has a deadline, or the expiry job would never give its stock back.
                t.HasCheckConstraint("ck_orders_pending_expires", "status <> 'pending' OR expires_at IS NOT NULL");
            });
            e.HasKey(o => o.Id);
            e.Property(o => o.Id).HasColumnName("id").ValueGeneratedNever();
            e.Property(o => o.UserId).HasColumnName("user_id");
            e.Property(o => o.Total).HasColumnName("total").HasColumnType("numeric(12,2)");
            e.Property(o => o.Status).HasColumnName("status").HasMaxLength(16);
            e.Property(o => o.CreatedAt).HasColumnName("created_at");
            e.Property(o => o.UpdatedAt).HasColumnName("updated_at");
            e.Property(o => o.ExpiresAt).HasColumnName("expires_at");
            e.OwnsMany(o => o.Items, items => items.ToJson("items"));
            e.HasIndex(o => new { o.UserId, o.CreatedAt }).IsDescending(false, true).HasDatabaseName("ix_orders_user_id_created_at");
            e.HasIndex(o => o.Status).HasDatabaseName("ix_orders_status");
            e.HasIndex(o => o.CreatedAt).IsDescending().HasDatabaseName("ix_orders_created_at");
            // The expiry job's scan, and the per-user pending count: only pending rows.
            e.HasIndex(o => o.ExpiresAt).HasFilter("status = 'pending'").HasDatabaseName("ix_orders_pending_expires_at");
            e.HasIndex(o => o.UserId).HasFilter("status = 'pending'").HasDatabaseName("ix_orders_pending_user_id");
        });

        modelBuilder.Entity<OrderEvent>(e =>
        {
            e.ToTable("order_events");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).HasColumnName("id").UseIdentityAlwaysColumn();
            e.Property(x => x.OrderId).HasColumnName("order_id");
            e.Property(x => x.EventType).HasColumnName("event_type").HasMaxLength(32);
            e.Property(x => x.Description).HasColumnName("description").HasMaxLength(500);
            e.Property(x => x.OldValue).HasColumnName("old_value").HasMaxLength(100);
            e.Property(x => x.NewValue).HasColumnName("new_value").HasMaxLength(100);
            e.Property(x => x.UserId).HasColumnName("user_id");
            e.Property(x => x.CreatedAt).HasColumnName("created_at");
            e.HasOne<Order>().WithMany().HasForeignKey(x => x.OrderId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(x => x.OrderId).HasDatabaseName("ix_order_events_order_id");
        });

        modelBuilder.Entity<IdempotencyRecord>(e =>
        {
            e.ToTable("idempotency_keys", t => t.HasCheckConstraint("ck_idempotency_keys_state", "state IN ('processing', 'completed')"));
            e.HasKey(x => new { x.UserId, x.Key });
            e.Property(x => x.UserId).HasColumnName("user_id");
            e.Property(x => x.Key).HasColumnName("key").HasMaxLength(255);
            e.Property(x => x.RequestHash).HasColumnName("request_hash").HasMaxLength(64);
            e.Property(x => x.OrderId).HasColumnName("order_id");
            e.Property(x => x.State).HasColumnName("state").HasMaxLength(16);
            e.Property(x => x.ResponseStatus).HasColumnName("response_status");
            e.Property(x => x.ResponseBody).HasColumnName("response_body");
            e.Property(x => x.CreatedAt).HasColumnName("created_at");
            e.Property(x => x.UpdatedAt).HasColumnName("updated_at");
            e.HasIndex(x => x.CreatedAt).HasDatabaseName("ix_idempotency_keys_created_at");
        });

        modelBuilder.Entity<StockRelease>(e =>
        {
            e.ToTable("stock_releases");
            e.HasKey(x => x.OrderId);
            e.Property(x => x.OrderId).HasColumnName("order_id").ValueGeneratedNever();
            e.Property(x => x.DueAt).HasColumnName("due_at");
            e.Property(x => x.Attempts).HasColumnName("attempts");
            e.Property(x => x.CreatedAt).HasColumnName("created_at");
            e.HasIndex(x => x.DueAt).HasDatabaseName("ix_stock_releases_due_at");
        });

        modelBuilder.Entity<WebhookSubscription>(e =>
        {
            // Exactly one form of the secret: encrypted, or plaintext from an older version awaiting encryption.
            e.ToTable("webhook_subscriptions", t => t.HasCheckConstraint("ck_webhook_subscriptions_one_secret", "(secret IS NULL) <> (secret_protected IS NULL)"));
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).HasColumnName("id").ValueGeneratedNever();
            e.Property(x => x.Url).HasColumnName("url").HasMaxLength(2048);
            e.Property(x => x.Events).HasColumnName("events");
            e.Property(x => x.LegacySecret).HasColumnName("secret").HasMaxLength(200);
            e.Property(x => x.ProtectedSecret).HasColumnName("secret_protected");
            e.Property(x => x.PreviousProtectedSecret).HasColumnName("previous_secret_protected");
            e.Property(x => x.PreviousSecretExpiresAt).HasColumnName("previous_secret_expires_at");
            e.Property(x => x.IsActive).HasColumnName("is_active");
            e.Property(x => x.CreatedAt).HasColumnName("created_at");
        });

        modelBuilder.Entity<WebhookDelivery>(e =>
        {
            e.ToTable("webhook_deliveries", t => t.HasCheckConstraint("ck_webhook_deliveries_status", "status IN ('pending', 'delivered', 'failed')"));
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).HasColumnName("id").UseIdentityAlwaysColumn();
            e.Property(x => x.SubscriptionId).HasColumnName("subscription_id");
            e.Property(x => x.EventId).HasColumnName("event_id");
            e.Property(x => x.EventType).HasColumnName("event_type").HasMaxLength(64);
            e.Property(x => x.OrderId).HasColumnName("order_id");
            e.Property(x => x.Payload).HasColumnName("payload");
            e.Property(x => x.Status).HasColumnName("status").HasMaxLength(16);
            e.Property(x => x.Attempts).HasColumnName("attempts");
            e.Property(x => x.LastStatusCode).HasColumnName("last_status_code");
            e.Property(x => x.LastError).HasColumnName("last_error").HasMaxLength(500);
            e.Property(x => x.NextAttemptAt).HasColumnName("next_attempt_at");
            e.Property(x => x.DeliveredAt).HasColumnName("delivered_at");
            e.Property(x => x.CreatedAt).HasColumnName("created_at");
            e.HasOne<WebhookSubscription>().WithMany().HasForeignKey(x => x.SubscriptionId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(x => new { x.SubscriptionId, x.Id }).HasDatabaseName("ix_webhook_deliveries_subscription");
            // The dispatcher's scan: only rows still to send.
            e.HasIndex(x => x.NextAttemptAt).HasFilter("status = 'pending'").HasDatabaseName("ix_webhook_deliveries_due");
            // The retention job's scan: only rows that are done.
            e.HasIndex(x => x.CreatedAt).HasFilter("status <> 'pending'").HasDatabaseName("ix_webhook_deliveries_finished_created_at");
        });

        modelBuilder.Entity<DataProtectionKey>(e =>
        {
            e.ToTable("data_protection_keys");
            e.Property(x => x.Id).HasColumnName("id");
            e.Property(x => x.FriendlyName).HasColumnName("friendly_name");
            e.Property(x => x.Xml).HasColumnName("xml");
        });
    }
}
