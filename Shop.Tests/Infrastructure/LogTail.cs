using System.Text;
using Xunit;

namespace Shop.Tests.Infrastructure;

/// <summary>What a resource writes to its log (<see cref="ShopAppHost.ResourceLogPath"/>) from now on.</summary>
public sealed class LogTail(string path)
{
    private readonly long _start = File.Exists(path) ? new FileInfo(path).Length : 0;

    /// <summary>
    /// The log written since this tail was made, once it contains <paramref name="line"/>: the console lines
    /// reach the file a moment after they are written. Fails, showing what was written, after 30 s without it.
    /// </summary>
    public async Task<string> WaitForAsync(string line)
    {
        var written = await Eventually.ReadUntilAsync(ReadAsync, w => w.Contains(line, StringComparison.Ordinal), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200));
        Assert.True(written.Contains(line, StringComparison.Ordinal), $"{Path.GetFileName(path)} has no \"{line}\" after 30 s; written meanwhile:\n{written}");
        return written;
    }

    private async Task<string> ReadAsync()
    {
        if (!File.Exists(path))
        {
            return "";
        }
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        file.Seek(Math.Min(_start, file.Length), SeekOrigin.Begin);
        using var reader = new StreamReader(file, Encoding.UTF8);
        return await reader.ReadToEndAsync();
    }
}
