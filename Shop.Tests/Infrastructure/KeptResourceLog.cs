using Aspire.Hosting.ApplicationModel;

namespace Shop.Tests.Infrastructure;

/// <summary>
/// One resource's kept console log (<see cref="ShopAppHost.ResourceLogPath"/>): the lines of each of its instances, as
/// their log watches deliver them, without colour codes.
/// </summary>
/// <remarks>
/// A restarted instance's watch replays the earlier process's lines; they are kept once. Each instance is judged on its own
/// lines, since replicas' batches arrive interleaved: one of its lines stamped before the newest it has kept is a replay,
/// and so is one stamped as that newest whose text an earlier batch kept (the lines of one read of a process's output
/// share a stamp, and equal ones among them are all kept).
/// </remarks>
internal sealed class KeptResourceLog(string path)
{
    private readonly SemaphoreSlim _appending = new(1, 1);
    private readonly Dictionary<string, (DateTimeOffset Stamp, HashSet<string> Lines)> _newest = [];

    /// <summary>Appends a batch of <paramref name="instance"/>'s lines (an instance is a replica's own name, e.g. <c>orders-abcdefgh</c>).</summary>
    public async Task AppendAsync(string instance, IReadOnlyList<LogLine> batch)
    {
        await _appending.WaitAsync();
        try
        {
            var (earlierStamp, earlierLines) = _newest.GetValueOrDefault(instance, (DateTimeOffset.MinValue, []));
            var newest = (Stamp: earlierStamp, Lines: new HashSet<string>(earlierLines));
            var lines = new List<string>(batch.Count);
            foreach (var line in batch)
            {
                var stamp = ShopAppHost.Timestamp(line.Content);
                if (stamp is { } s && (s < earlierStamp || (s == earlierStamp && earlierLines.Contains(line.Content))))
                {
                    continue;
                }
                if (stamp is { } later && later > newest.Stamp)
                {
                    newest = (later, []);
                }
                if (stamp == newest.Stamp)
                {
                    newest.Lines.Add(line.Content);
                }
                lines.Add(ShopAppHost.PlainText(line.Content));
            }
            _newest[instance] = newest;
            await File.AppendAllLinesAsync(path, lines);
        }
        finally
        {
            _appending.Release();
        }
    }
}
