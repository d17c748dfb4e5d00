namespace Shop.Orders.Data;

public sealed class WebhookSubscription
{
    public Guid Id { get; set; }
    public required string Url { get; set; }
    public List<string> Events { get; set; } = [];

    /// <summary>The signing secret, encrypted with Data Protection (<see cref="Webhooks.WebhookSecrets"/>).</summary>
    public string? ProtectedSecret { get; set; }

    /// <summary>A plaintext secret written by an older version; encrypted in place and cleared by the maintenance job.</summary>
    public string? LegacySecret { get; set; }

    /// <summary>The secret before the last rotation, still signing until <see cref="PreviousSecretExpiresAt"/>.</summary>
    public string? PreviousProtectedSecret { get; set; }
    public DateTime? PreviousSecretExpiresAt { get; set; }
    public bool IsActive { get; set; } = true;
    public DateTime CreatedAt { get; set; }

    /// <summary>
    /// Set while the subscriber is unavailable (it did not answer, or answered 429/502/503/504, and nothing in the
    /// same batch got through): its due deliveries wait, and when this passes one of them goes out as a probe.
    /// </summary>
    public DateTime? PausedUntil { get; set; }

    /// <summary>Batches in a row that found the subscriber unavailable; picks the pause from the retry schedule.</summary>
    public int UnavailableStreak { get; set; }
}

/// <summary>The outbox row of one event for one subscription, and its delivery log.</summary>
public sealed class WebhookDelivery
{
    public long Id { get; set; }
    public Guid SubscriptionId { get; set; }
    public Guid EventId { get; set; }
    public required string EventType { get; set; }
    public Guid OrderId { get; set; }

    /// <summary>The exact body sent (and signed) on every attempt.</summary>
    public required string Payload { get; set; }

    public string Status { get; set; } = WebhookDeliveryStatus.Pending;
    public int Attempts { get; set; }
    public int? LastStatusCode { get; set; }
    public string? LastError { get; set; }
    public DateTime NextAttemptAt { get; set; }

    /// <summary>
    /// While set and in the future, a dispatcher lane has claimed the row and is sending it; others leave it alone.
    /// No index names it, so a claim rewrites the row in place (a HOT update) instead of adding an entry to each index.
    /// </summary>
    public DateTime? LeasedUntil { get; set; }

    public DateTime? DeliveredAt { get; set; }
    public DateTime CreatedAt { get; set; }
}

public static class WebhookDeliveryStatus
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
}

public static class WebhookEventTypes
{
    public const string OrderCreated = "order.created";
    public const string OrderStatusChanged = "order.status_changed";
    public static readonly string[] All = [OrderCreated, OrderStatusChanged];
}
