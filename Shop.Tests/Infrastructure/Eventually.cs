using System.Diagnostics;

namespace Shop.Tests.Infrastructure;

/// <summary>
/// Waits for what the system does in its own time (a delivery, a background release, a restart, a log line)
/// by looking again until the answer is the awaited one or the patience runs out. It never asserts: the
/// caller asserts on the last answer, so a failure says what was seen rather than only that time ran out.
/// </summary>
public static class Eventually
{
    /// <summary>
    /// Reads until <paramref name="done"/> holds for the answer or <paramref name="within"/> has passed, pausing
    /// <paramref name="every"/> between reads, and returns the last answer. The first read is at once, and it
    /// gives up only after a read that ended past the patience, so one slow read never cuts the wait short.
    /// </summary>
    public static async Task<T> ReadUntilAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan within, TimeSpan every)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            var answer = await read();
            if (done(answer) || Stopwatch.GetElapsedTime(started) >= within)
            {
                return answer;
            }
            await Task.Delay(every);
        }
    }

    /// <summary>Checks <paramref name="condition"/> until it holds or <paramref name="within"/> has passed; whether it held at the last check.</summary>
    public static Task<bool> HoldsAsync(Func<bool> condition, TimeSpan within, TimeSpan every) =>
        ReadUntilAsync(() => Task.FromResult(condition()), held => held, within, every);
}
