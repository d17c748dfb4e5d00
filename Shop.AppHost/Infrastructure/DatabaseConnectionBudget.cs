using Microsoft.Extensions.Configuration;
using Shop.Publishing;

namespace Shop.AppHost.Infrastructure;

/// <summary>
/// How many connections a service's PostgreSQL server must accept: a full pool from every process of the
/// service that may run at once (<c>Shop:Replicas</c>; in a deployment the autoscaler's maximum, <c>Shop:Publish:MaxReplicas</c> or a higher
/// <c>MinReplicas</c> (<see cref="PublishOptions.AutoscalerReplicas"/>), plus the pods a rolling update starts before the old ones go), each with Orders' one listening session on top,
/// plus the connections PostgreSQL keeps for superusers and room for the migration step and an operator's session.
/// Without it the deployments' servers kept PostgreSQL's 100, which ten autoscaled replicas' pools overrun, and the
/// last replicas' requests fail with "too many clients".
/// </summary>
public sealed record DatabaseConnectionBudget(int PoolPerProcess, int Processes)
{
    /// <summary>The services' own default (<c>Shop.ServiceDefaults.DatabaseOptions.MaxPoolSize</c>, docs/performance.md Round 11).</summary>
    public const int DefaultPoolPerProcess = 12;

    /// <summary>PostgreSQL's <c>superuser_reserved_connections</c>: counted in <c>max_connections</c>, unusable by the services' roles.</summary>
    public const int SuperuserReserved = 3;

    /// <summary>Sessions beside the services': a migration step, an operator's psql, a monitor.</summary>
    public const int Spare = 7;

    /// <summary>PostgreSQL's own default, never lowered.</summary>
    public const int PostgresDefault = 100;

    /// <summary>The <c>max_connections</c> each server is started with.</summary>
    public int MaxConnections => Math.Max(PostgresDefault, Processes * (PoolPerProcess + 1) + SuperuserReserved + Spare);

    public static DatabaseConnectionBudget From(IConfiguration configuration, int replicas, bool publishing)
    {
        var pool = configuration.GetValue("Shop:Database:MaxPoolSize", DefaultPoolPerProcess);
        if (pool < 1)
        {
            throw new InvalidOperationException($"Shop:Database:MaxPoolSize is {pool}; give the most connections one service process may hold to its database, at least 1.");
        }
        if (!publishing)
        {
            return new DatabaseConnectionBudget(pool, replicas);
        }
        // A rollout at the autoscaler's maximum runs the Deployment's surge on top, and the old pods it replaced hold their
        // pools until they have stopped (the preStop sleep, then the shutdown): the Deployment controller does not count
        // stopping pods, so the next batch starts meanwhile. One batch of them is counted; a pod stops in seconds, well
        // before the next batch is ready. Compose's recreate has none of this; it gets the same servers.
        var replicasAtMost = PublishOptions.From(configuration).AutoscalerReplicas(replicas).Max;
        return new DatabaseConnectionBudget(pool, replicasAtMost + 2 * PublishOptions.RolloutSurge(replicasAtMost));
    }
}
