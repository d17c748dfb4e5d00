using Npgsql;
using Shop.ServiceDefaults;

namespace Shop.Orders.Services;

/// <summary>
/// Holds one connection to the Orders database that <c>LISTEN</c>s for work announced by other processes:
/// outbox rows committed by another replica (its <see cref="Webhooks.OutboxAnnouncer"/>) wake this
/// replica's webhook dispatcher, a stock release made due now (a trigger of migration WorkNotifications)
/// wakes its release worker. The workers keep a slow poll as the fallback for whatever a lost notification
/// would leave behind.
/// <para>
/// When the connection drops (a PostgreSQL restart or failover, a network cut) <see cref="NpgsqlConnection.WaitAsync(CancellationToken)"/>
/// throws; the loop reconnects with a back-off up to <see cref="MaxBackoff"/> for as long as the
/// service runs, so a restart costs wake-ups only while the server is away. Notifications are not
/// queued for a session that is not listening, so each (re)connect wakes both workers for one pass.
/// </para>
/// </summary>
public sealed class DatabaseNotificationListener(
    IConfiguration configuration, WebhookDispatchSignal webhooks, StockReleaseSignal releases, ILogger<DatabaseNotificationListener> logger) : BackgroundService
{
    /// <summary>The channels; the release channel's name is part of migration WorkNotifications' SQL.</summary>
    public const string OutboxChannel = "webhook_outbox";
    public const string StockReleaseChannel = "stock_release_due";

    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    // Its own unpooled session: a pooled connection would be reset (UNLISTEN) and shared, and LISTEN
    // belongs to the session. The keep-alive query notices a silently dead peer, which an idle
    // WaitAsync alone would not. Built like the DbContexts' data sources so that its connects and its
    // LISTEN, which run outside any request, are not traces of their own.
    private readonly NpgsqlDataSource _dataSource = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder(
        configuration.GetConnectionString("ordersdb") ?? throw new InvalidOperationException("ConnectionStrings:ordersdb is not set."))
    {
        Pooling = false,
        Multiplexing = false,
        KeepAlive = 30,
        Timeout = 5,
        ApplicationName = "Shop.Orders notifications",
    }.ConnectionString).TraceCommandsOnlyInsideActivities().Build();

    public override void Dispose()
    {
        base.Dispose();
        _dataSource.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) => Wake(e.Channel, e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {OutboxChannel}; LISTEN {StockReleaseChannel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }
                if (failures > 0)
                {
                    logger.LogInformation("Listening for database notifications again after {Failures} failed attempts", failures);
                }
                failures = 0;
                webhooks.Notify();
                releases.Notify();
                while (true)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                failures++;
                var backoff = TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, Math.Pow(2, Math.Min(failures - 1, 5))));
                // The first failure is worth a warning with its cause; a server that stays away, one line per attempt.
                if (failures == 1)
                {
                    logger.LogWarning(e, "Database notification connection lost; background work falls back to polling until it is back (retry in {Backoff})", backoff);
                }
                else
                {
                    logger.LogInformation("Database notification connection: attempt {Attempt} failed ({Error}); retry in {Backoff}", failures, e.Message, backoff);
                }
                try
                {
                    await Task.Delay(backoff, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void Wake(string channel, string payload)
    {
        switch (channel)
        {
            // This replica's own announcement: its dispatcher was woken before the NOTIFY was sent.
            case OutboxChannel when payload == Webhooks.OutboxAnnouncer.ReplicaId:
                break;
            case OutboxChannel:
                webhooks.Notify();
                break;
            case StockReleaseChannel:
                releases.Notify();
                break;
        }
    }
}
