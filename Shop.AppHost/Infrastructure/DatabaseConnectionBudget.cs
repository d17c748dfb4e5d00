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

    /// <summary>PostgreSQL's <c>shared_buffers</c> as initdb writes it (128 MB), allocated once for the server.</summary>
    public const int SharedBuffersMiB = 128;

    /// <summary>
    /// What one backend holds privately, rounded up from what PostgreSQL 15 measured (docs/deploy.md, Memory per service):
    /// 2.4 MiB after SQL modelled on Orders' placement, listing and polling, 3.6 MiB with 62 statements prepared (Npgsql
    /// prepares up to 64 per connection).
    /// </summary>
    public const int BackendMiB = 4;

    /// <summary>The server's own processes (checkpointer, WAL writer, autovacuum launcher, …) and one autovacuum worker's maintenance_work_mem (64 MB).</summary>
    public const int ServerProcessesMiB = 64;

    /// <summary>Above the request: queries' sorts and hashes (work_mem, 4 MB each) and the two other autovacuum workers.</summary>
    public const int HeadroomMiB = 256;

    /// <summary>
    /// A deployment's memory request for the server: a backend for every connection it accepts beside its shared buffers.
    /// Under the publish default of 512 MiB, 215 connections took 555 MiB and the kernel killed the postmaster, ending
    /// every session of the service; the scheduler places the pod by this figure, so it counts them all.
    /// </summary>
    public int MemoryRequestMiB => SharedBuffersMiB + ServerProcessesMiB + MaxConnections * BackendMiB;

    /// <summary>A deployment's memory limit for the server (<see cref="MemoryRequestMiB"/> and <see cref="HeadroomMiB"/>).</summary>
    public int MemoryLimitMiB => MemoryRequestMiB + HeadroomMiB;

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
