using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Shop.Orders.Data;

namespace Shop.Orders.Services.Webhooks;

/// <summary>
/// Wakes this instance's dispatcher once a transaction that wrote outbox rows has committed. Woken when
/// the rows are only added, it would find nothing it can see yet and sleep for a whole poll interval.
/// </summary>
public sealed class OutboxCommitInterceptor(WebhookDispatchSignal signal) : IDbTransactionInterceptor, ISaveChangesInterceptor
{
    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => WakeIfWritten(eventData.Context);

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        WakeIfWritten(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Forget(eventData.Context);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Forget(eventData.Context);
        return Task.CompletedTask;
    }

    // Without an explicit transaction, SaveChanges commits by itself.
    public int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        if (eventData.Context?.Database.CurrentTransaction is null)
        {
            WakeIfWritten(eventData.Context);
        }
        return result;
    }

    public ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(SavedChanges(eventData, result));

    private void WakeIfWritten(DbContext? context)
    {
        if (context is OrdersDbContext { OutboxWritten: true } orders)
        {
            orders.OutboxWritten = false;
            signal.Notify();
        }
    }

    private static void Forget(DbContext? context)
    {
        if (context is OrdersDbContext orders)
        {
            orders.OutboxWritten = false;
        }
    }
}
