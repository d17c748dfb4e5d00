using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Shop.ServiceDefaults;

/// <summary>
/// What a service says about the requests it refuses with 503 because a dependency (another service, its database) is
/// away: the first refusal of an outage at Warning, with its reason; the next ones counted, not logged one by one (Debug),
/// with a summary at most every <see cref="SummaryEvery"/> while they go on; and one Information line once none has been
/// refused for <see cref="QuietAfter"/>. A line per request was hundreds of identical lines a second for as long as the
/// outage lasted. One per process, each dependency's outage on its own.
/// </summary>
/// <remarks>
/// "Over" means no request was refused for <see cref="QuietAfter"/>, not that the dependency answered: the refusals are
/// all this handler sees, and a quiet spell is also what an operator watching the flood would call its end. The line says
/// so plainly, since a dependency nobody asked for meanwhile may still be away (its health check tells); a refusal after
/// it starts a new outage with a new Warning. A timer runs only while an outage lasts, set for the next line due, so the
/// end is said <see cref="QuietAfter"/> after the last refusal.
/// </remarks>
public sealed partial class OutageLog(ILogger<OutageLog> logger, TimeProvider clock) : IDisposable
{
    /// <summary>While refusals go on, how often their count is said.</summary>
    public static readonly TimeSpan SummaryEvery = TimeSpan.FromSeconds(30);

    /// <summary>How long without a refusal ends an outage.</summary>
    public static readonly TimeSpan QuietAfter = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<(string Dependency, LogLevel Level), Outage> _outages = new();
    private readonly ILogger _logger = logger;
    private readonly TimeProvider _clock = clock;

    /// <summary>A request refused because <paramref name="dependency"/> is away.</summary>
    /// <param name="reason">Why, in one line (the refused connection, the open circuit).</param>
    /// <param name="level">How the outage's first refusal and its summaries are logged: an Error for one only an operator can end.</param>
    public void Refused(string dependency, string reason, LogLevel level = LogLevel.Warning)
    {
        var key = (dependency, level);
        while (true)
        {
            if (_outages.TryGetValue(key, out var outage))
            {
                if (outage.Count(reason))
                {
                    Counted(_logger, dependency, reason);
                    return;
                }
                // It ended as this refusal came: the refusal begins the next one.
                _outages.TryRemove(new(key, outage));
                continue;
            }
            var begun = new Outage(this, key, reason);
            if (_outages.TryAdd(key, begun))
            {
                Began(_logger, level, dependency, reason, (int)SummaryEvery.TotalSeconds, (int)QuietAfter.TotalSeconds);
                begun.Watch();
                return;
            }
        }
    }

    public void Dispose()
    {
        foreach (var outage in _outages.Values)
        {
            outage.Dispose();
        }
    }

    /// <summary>One dependency's outage: refusals counted on any thread, said by its timer.</summary>
    private sealed class Outage(OutageLog log, (string Dependency, LogLevel Level) key, string reason) : IDisposable
    {
        private readonly long _began = log._clock.GetTimestamp();
        private long _saidAt = log._clock.GetTimestamp();
        private ITimer? _timer;

        // Written by every refusal; read (and the count reset) by the timer.
        private long _sinceTick;
        private long _lastRefusedAt = log._clock.GetTimestamp();
        private string _lastReason = reason;
        private int _ended;

        // The timer's own (its callbacks do not overlap: each one sets the next).
        private long _total = 1, _unsaid;

        /// <summary>Counts a refusal, or answers false when this outage has already ended.</summary>
        public bool Count(string reason)
        {
            Interlocked.Increment(ref _sinceTick);
            Volatile.Write(ref _lastReason, reason);
            Volatile.Write(ref _lastRefusedAt, log._clock.GetTimestamp());
            // Read after the increment: a refusal that finds it open is in the count the end reads after closing it.
            // One that finds it ended may be in that count too, and also begins the next outage: counted twice, not lost.
            return Volatile.Read(ref _ended) == 0;
        }

        public void Watch() => _timer = log._clock.CreateTimer(_ => Tick(), null, QuietAfter, Timeout.InfiniteTimeSpan);

        // One-shot, set each time for the next thing due: the end, QuietAfter after the last refusal, or the summary. A
        // timer every QuietAfter that only asked "any refusal since the last tick?" said the end 10 to 20 s after it.
        private void Tick()
        {
            var now = log._clock.GetTimestamp();
            var quiet = log._clock.GetElapsedTime(Volatile.Read(ref _lastRefusedAt), now);
            if (quiet >= QuietAfter)
            {
                Interlocked.Exchange(ref _ended, 1);
                _total += Interlocked.Exchange(ref _sinceTick, 0);
                log._outages.TryRemove(new(key, this));
                Dispose();
                Ended(log._logger, key.Dependency, (int)QuietAfter.TotalSeconds, _total, Seconds(log._clock.GetElapsedTime(_began, now)));
                return;
            }
            var refused = Interlocked.Exchange(ref _sinceTick, 0);
            _total += refused;
            _unsaid += refused;
            var since = log._clock.GetElapsedTime(_saidAt, now);
            if (since >= SummaryEvery && _unsaid > 0)
            {
                StillRefusing(log._logger, key.Level, key.Dependency, _unsaid, Seconds(since), _total,
                    Seconds(log._clock.GetElapsedTime(_began, now)), Volatile.Read(ref _lastReason));
                _unsaid = 0;
                _saidAt = now;
                since = TimeSpan.Zero;
            }
            var next = QuietAfter - quiet;
            if (SummaryEvery - since is var summaryDue && summaryDue > TimeSpan.Zero && summaryDue < next)
            {
                next = summaryDue;
            }
            _timer?.Change(next, Timeout.InfiniteTimeSpan);
        }

        public void Dispose() => _timer?.Dispose();

        private static long Seconds(TimeSpan span) => (long)Math.Round(span.TotalSeconds);
    }

    [LoggerMessage(EventId = 1, EventName = "DependencyUnavailable", Message = "Dependency unavailable: {Dependency} ({Reason}). Requests that need it are answered 503; the next refusals are counted, not logged one by one: a summary at most every {SummarySeconds} s, and a line once none has been refused for {QuietSeconds} s")]
    private static partial void Began(ILogger logger, LogLevel level, string dependency, string reason, int summarySeconds, int quietSeconds);

    [LoggerMessage(EventId = 2, EventName = "DependencyRefusalCounted", Level = LogLevel.Debug, Message = "Dependency unavailable: {Dependency} ({Reason}); refusal counted")]
    private static partial void Counted(ILogger logger, string dependency, string reason);

    [LoggerMessage(EventId = 3, EventName = "DependencyStillUnavailable", Message = "Dependency unavailable: {Dependency} — {Refused:N0} more requests refused in the last {Seconds} s ({Total:N0} since it became unavailable {DurationSeconds:N0} s ago), the last with: {Reason}")]
    private static partial void StillRefusing(ILogger logger, LogLevel level, string dependency, long refused, long seconds, long total, long durationSeconds, string reason);

    [LoggerMessage(EventId = 4, EventName = "DependencyRefusalsEnded", Level = LogLevel.Information, Message = "Dependency {Dependency}: no request refused for {QuietSeconds} s, so its outage is taken as over (it answers again, or nothing asked for it: its health check tells which); {Total:N0} refused over {DurationSeconds:N0} s")]
    private static partial void Ended(ILogger logger, string dependency, int quietSeconds, long total, long durationSeconds);
}
