using Shop.Orders.Services.Webhooks;

namespace Shop.UnitTests.Orders;

/// <summary>The signature against the worked example published in the README, which subscribers check their verifiers with.</summary>
public sealed class WebhookSignatureTests
{
    [Fact]
    public void The_signature_matches_the_published_worked_example()
    {
        var example = PublishedExample();

        var header = WebhookDispatcher.Sign([example["secret"]], long.Parse(example["timestamp"]), example["body"]);

        Assert.Equal(example["header"], header);
    }

    [Fact]
    public void During_a_rotation_each_secret_adds_its_own_v1_the_current_one_first()
    {
        var example = PublishedExample();
        const string previous = "whsec_previous_9876543210";

        var header = WebhookDispatcher.Sign([example["secret"], previous], long.Parse(example["timestamp"]), example["body"]);

        Assert.Equal(example["header"] + ",v1=" + WebhookDispatcher.Sign([previous], long.Parse(example["timestamp"]), example["body"]).Split(",v1=")[1], header);
        Assert.Equal(3, header.Split(',').Length);
    }

    [Fact]
    public void The_timestamp_is_part_of_what_is_signed()
    {
        var example = PublishedExample();

        var later = WebhookDispatcher.Sign([example["secret"]], long.Parse(example["timestamp"]) + 1, example["body"]);

        Assert.NotEqual(example["header"].Split(",v1=")[1], later.Split(",v1=")[1]);
    }

    /// <summary>The <c>secret: … header: …</c> block of the README's webhook section.</summary>
    private static Dictionary<string, string> PublishedExample()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(directory!.FullName, "Shop.sln")))
        {
            directory = directory.Parent;
        }
        var lines = File.ReadAllLines(Path.Combine(directory.FullName, "README.md"));
        var start = Array.FindIndex(lines, l => l.StartsWith("secret:    whsec_", StringComparison.Ordinal));
        Assert.True(start >= 0, "README.md lost the webhook signature worked example.");
        return lines.Skip(start).Take(4).Select(l => l.Split(':', 2)).ToDictionary(p => p[0], p => p[1].Trim());
    }
}
