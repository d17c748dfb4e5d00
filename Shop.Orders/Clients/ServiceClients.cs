using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;

namespace Shop.Orders.Clients;

public sealed record UserStatus(int Id, string Role, bool IsActive);

public sealed record ReservationLine(string Sku, string Name, int Qty, decimal UnitPrice);

public sealed record Reservation(Guid OrderId, string Status, List<ReservationLine> Lines);

/// <summary>A refusal from Inventory (400 unknown sku, 409 short stock) passed on to the client as it came.</summary>
public sealed class InventoryRejectedException(int status, JsonElement problem) : Exception("Inventory refused the reservation.")
{
    public int Status { get; } = status;
    public JsonElement Problem { get; } = problem;
}

/// <summary>Calls Users' internal API with the service key.</summary>
public sealed class UsersClient(HttpClient http, IOptions<JsonOptions> json)
{
    public async Task<UserStatus?> GetStatusAsync(int userId, CancellationToken ct)
    {
        try
        {
            using var response = await http.GetAsync($"/internal/users/{userId}", ct);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }
            if (!response.IsSuccessStatusCode)
            {
                throw new ServiceUnavailableException("users");
            }
            return await response.Content.ReadFromJsonAsync<UserStatus>(json.Value.SerializerOptions, ct);
        }
        catch (Exception e) when (ServiceClients.IsUnavailability(e, ct))
        {
            throw new ServiceUnavailableException("users", e);
        }
    }
}

/// <summary>Calls Inventory's internal reservation API with the service key.</summary>
public sealed class InventoryClient(HttpClient http, IOptions<JsonOptions> json)
{
    private readonly JsonSerializerOptions _json = json.Value.SerializerOptions;

    /// <summary>Reserves every line or none. Safe to retry: Inventory keys the reservation by order id.</summary>
    public async Task<Reservation> ReserveAsync(Guid orderId, IEnumerable<(string Sku, int Qty)> lines, CancellationToken ct)
    {
        try
        {
            using var response = await http.PostAsJsonAsync("/internal/reservations/",
                new { OrderId = orderId, Items = lines.Select(l => new { l.Sku, l.Qty }) }, _json, ct);
            if (response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Conflict)
            {
                var problem = await response.Content.ReadFromJsonAsync<JsonElement>(_json, ct);
                throw new InventoryRejectedException((int)response.StatusCode, problem);
            }
            if (!response.IsSuccessStatusCode)
            {
                throw new ServiceUnavailableException("inventory");
            }
            return (await response.Content.ReadFromJsonAsync<Reservation>(_json, ct))!;
        }
        catch (Exception e) when (ServiceClients.IsUnavailability(e, ct))
        {
            throw new ServiceUnavailableException("inventory", e);
        }
    }

    /// <summary>Returns an order's stock at most once (Inventory remembers); safe to retry.</summary>
    public async Task ReleaseAsync(Guid orderId, CancellationToken ct)
    {
        try
        {
            using var response = await http.PostAsync($"/internal/reservations/{orderId}/release", content: null, ct);
            if (!response.IsSuccessStatusCode)
            {
                throw new ServiceUnavailableException("inventory");
            }
        }
        catch (Exception e) when (ServiceClients.IsUnavailability(e, ct))
        {
            throw new ServiceUnavailableException("inventory", e);
        }
    }
}

public sealed class ServiceClientOptions
{
    /// <summary>One try's limit; several tries and back-off fit in <see cref="TotalTimeout"/>.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(4);

    /// <summary>Well inside the gateway's timeout, so a slow dependency becomes a 503, not a 504.</summary>
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

public static class ServiceClients
{
    public static IHostApplicationBuilder AddServiceClients(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection("ServiceClients").Get<ServiceClientOptions>() ?? new ServiceClientOptions();
        var serviceKey = builder.Configuration["ServiceAuth:ApiKey"] ?? "";

        void Configure(IHttpClientBuilder client, string baseAddress)
        {
            client.ConfigureHttpClient(c =>
            {
                c.BaseAddress = new Uri(baseAddress);
                c.DefaultRequestHeaders.Add(ShopAuthentication.ServiceKeyHeader, serviceKey);
                c.Timeout = Timeout.InfiniteTimeSpan; // the resilience pipeline owns timeouts
            });
            // Replace the defaults' pipeline with one tuned for calls a user is waiting on. Both internal
            // APIs are idempotent (reservations are keyed by order id), so retrying POSTs is safe; the
            // circuit breaker turns a dead dependency into instant 503s after a handful of failures.
#pragma warning disable EXTEXP0001 // experimental, but the documented way to replace the default pipeline
            client.RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
            client.AddStandardResilienceHandler(o =>
            {
                o.AttemptTimeout.Timeout = options.AttemptTimeout;
                o.TotalRequestTimeout.Timeout = options.TotalTimeout;
                o.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(Math.Max(10, options.AttemptTimeout.TotalSeconds * 2));
                o.CircuitBreaker.MinimumThroughput = 10;
                o.CircuitBreaker.FailureRatio = 0.5;
                o.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(5);
                o.Retry.MaxRetryAttempts = 2;
                o.Retry.Delay = TimeSpan.FromMilliseconds(200);
                o.Retry.UseJitter = true;
            });
        }

        Configure(builder.Services.AddHttpClient<UsersClient>(), builder.Configuration["ServiceClients:UsersAddress"] ?? "http://users");
        Configure(builder.Services.AddHttpClient<InventoryClient>(), builder.Configuration["ServiceClients:InventoryAddress"] ?? "http://inventory");
        return builder;
    }

    internal static bool IsUnavailability(Exception e, CancellationToken ct) =>
        e is HttpRequestException or Polly.CircuitBreaker.BrokenCircuitException or Polly.Timeout.TimeoutRejectedException
        || (e is OperationCanceledException && !ct.IsCancellationRequested);
}
