using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Shop.Orders.Services.Clients;
using Shop.ServiceDefaults;

namespace Shop.UnitTests.Orders;

/// <summary>
/// An internal API that refuses the caller's service key (a key rotation done out of order) answers 401 or 403. To
/// the shopper it is a 503 like an outage, but it never passes by itself and no health check shows it, so the
/// caller names it: the exception says which keys differ, and the service's error handler logs it as an Error,
/// where an outage is a Warning.
/// </summary>
public sealed class InternalCallRefusalTests
{
    [Theory]
    [InlineData(StatusCodes.Status401Unauthorized, LogLevel.Error)]
    [InlineData(StatusCodes.Status403Forbidden, LogLevel.Error)]
    [InlineData(StatusCodes.Status503ServiceUnavailable, LogLevel.Warning)]
    public async Task A_refused_service_key_is_told_apart_from_an_outage(int answered, LogLevel logged)
    {
        await using var inventory = await LoopbackApp.StartAsync(app => app.MapPost("/internal/reservations/", () => Results.StatusCode(answered)));
        var client = new InventoryClient(new HttpClient { BaseAddress = new Uri(LoopbackApp.Address(inventory)) }, Options.Create(new JsonOptions()));

        var failure = await Assert.ThrowsAsync<ServiceUnavailableException>(() => client.ReserveAsync(Guid.NewGuid(), [("MUG", 1)], TestContext.Current.CancellationToken));

        var refused = answered != StatusCodes.Status503ServiceUnavailable;
        Assert.Equal(refused ? answered : null, failure.RefusedKeyStatus);
        Assert.Equal(refused, failure.Message.Contains("ServiceAuth:ApiKey", StringComparison.Ordinal));

        var log = new FakeLogger<OutageLog>();
        using var outages = new OutageLog(log, TimeProvider.System);
        await using var services = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider();
        var http = new DefaultHttpContext { RequestServices = services };
        http.Response.Body = new MemoryStream();
        var handler = new ShopExceptionHandler(services.GetRequiredService<IProblemDetailsService>(), new FakeLogger<ShopExceptionHandler>(), outages);
        Assert.True(await handler.TryHandleAsync(http, failure, TestContext.Current.CancellationToken));
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, http.Response.StatusCode);
        Assert.Equal(logged, log.LatestRecord.Level);
        Assert.Contains(refused ? "refused this service's key" : "Dependency unavailable", log.LatestRecord.Message);
    }
}
