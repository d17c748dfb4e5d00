using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// The webhook list, walked page by page. Alone (<see cref="AloneCollection"/>): a page is an offset into the list as it
/// is when that page is read, so a subscription another test creates or deletes between two pages shifts every older
/// one by a place, and the walk shows one of them twice or skips one (SPEC's limit/offset paging, as a client meets it
/// too).
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class WebhookListTests(ShopApp shop)
{
    /// <summary>
    /// SPEC's paging rule covers every list endpoint: the subscriptions are <c>{items, total, limit, offset}</c>,
    /// newest first, with the same <c>limit</c>/<c>offset</c> checks as the other lists (it was a bare array).
    /// </summary>
    [Fact]
    public async Task The_webhook_list_is_paged_newest_first_as_every_list_is()
    {
        var admin = await shop.AdminAsync();
        var ids = new List<string>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                ids.Add((await WebhookTests.SubscribeAsync(admin, $"http://127.0.0.1:9/paged-{i}", "*")).Id);
            }
            var first = await (await admin.GetAsync("/orders/webhooks?limit=2")).JsonAsync();
            Assert.Equal(2, first.GetProperty("limit").GetInt32());
            Assert.Equal(0, first.GetProperty("offset").GetInt32());
            Assert.Equal(2, first.GetProperty("items").GetArrayLength());
            var total = first.GetProperty("total").GetInt32();
            Assert.True(total >= 3, $"total {total}");

            var all = new List<string>();
            for (var offset = 0; offset < total; offset += 2)
            {
                var page = await (await admin.GetAsync($"/orders/webhooks?limit=2&offset={offset}")).JsonAsync();
                all.AddRange(page.GetProperty("items").EnumerateArray().Select(h => h.GetProperty("id").GetString()!));
            }
            Assert.Equal(all.Count, all.Distinct().Count());
            // Newest first: ours, created one after the other, come in the reverse order.
            Assert.Equal(Enumerable.Reverse(ids), all.Where(ids.Contains));

            await (await admin.GetAsync("/orders/webhooks?limit=0")).ExpectValidationAsync("limit");
            await (await admin.GetAsync("/orders/webhooks?limit=201")).ExpectValidationAsync("limit");
            await (await admin.GetAsync("/orders/webhooks?offset=-1")).ExpectValidationAsync("offset");
        }
        finally
        {
            foreach (var id in ids)
            {
                await admin.DeleteAsync($"/orders/webhooks/{id}");
            }
        }
    }
}
