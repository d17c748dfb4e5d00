using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// API documentation is served in Development only, unless <c>Shop:ApiDocs</c> says otherwise: the
/// scaled-out app turns it off (the shared app, in Development, serves it: FoundationTests).
/// </summary>
[Collection(ExclusiveCollection.Name)]
public sealed class ApiDocsTests(ScaledShopApp scaled)
{
    [Theory]
    [InlineData("/api-docs")]
    [InlineData("/users/openapi/v1.json")]
    [InlineData("/orders/openapi/v1.json")]
    [InlineData("/inventory/openapi/v1.json")]
    public async Task Api_documents_are_not_served_when_shop_api_docs_is_off(string path)
    {
        var answer = await scaled.Client().GetAsync(path);
        await answer.ExpectProblemAsync(404);
    }
}
