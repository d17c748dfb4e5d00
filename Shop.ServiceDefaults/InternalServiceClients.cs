using Microsoft.Extensions.Hosting;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;

namespace Shop.ServiceDefaults;

public sealed class ServiceClientOptions
{
    /// <summary>One try's limit; several tries and back-off fit in <see cref="TotalTimeout"/>.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(4);

    /// <summary>Well inside the gateway's timeout, so a slow dependency becomes a 503, not a 504.</summary>
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// One try's limit for calls that may wait in a queue (<see cref="ServiceCallKind.MayQueue"/>): most of
    /// <see cref="TotalTimeout"/>, as such a try is not retried when it runs out.
    /// </summary>
    public TimeSpan QueuedAttemptTimeout { get; set; } = TimeSpan.FromSeconds(9);
}

/// <summary>Refuses, naming it, a try's limit that is not positive or leaves no room for a retry within the total.</summary>
public sealed class ServiceClientOptionsCheck : IValidateOptions<ServiceClientOptions>
{
    public ValidateOptionsResult Validate(string? name, ServiceClientOptions options)
    {
        var failures = new List<string>();
        foreach (var (setting, value) in new[] { (nameof(options.AttemptTimeout), options.AttemptTimeout), (nameof(options.QueuedAttemptTimeout), options.QueuedAttemptTimeout) })
        {
            if (value <= TimeSpan.Zero || value >= options.TotalTimeout)
            {
                failures.Add($"ServiceClients:{setting} is {value}; give one try's limit, more than zero and shorter than ServiceClients:TotalTimeout ({options.TotalTimeout}).");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>What a service that calls others reads of section <c>ServiceAuth</c>.</summary>
public sealed class ServiceCallerOptions
{
    /// <summary>This service's own key, sent as <c>X-Service-Key</c>; the services it calls list it under their <c>ServiceAuth:Callers</c>.</summary>
    public string? ApiKey { get; set; }
}

/// <summary>
/// Without its key every call is refused (a 503 to each client that is not a dependency's outage): the start is
/// stopped instead, where the operator looks first.
/// </summary>
public sealed class ServiceCallerOptionsCheck : IValidateOptions<ServiceCallerOptions>
{
    public ValidateOptionsResult Validate(string? name, ServiceCallerOptions options) => string.IsNullOrWhiteSpace(options.ApiKey)
        ? ValidateOptionsResult.Fail(
            "ServiceAuth:ApiKey is not set; give this service's own key (ServiceAuth__ApiKey; in run mode the AppHost sets it from the " +
            "<service>-service-key parameter), the one the services it calls list under ServiceAuth:Callers. Without it they refuse every call.")
        : ValidateOptionsResult.Success;
}

/// <summary>How an internal call's tries are limited and retried.</summary>
public enum ServiceCallKind
{
    /// <summary>A quick answer or none: a try that runs out of <see cref="ServiceClientOptions.AttemptTimeout"/> is retried (another replica may answer).</summary>
    Quick,

    /// <summary>
    /// The answer may wait its turn behind others (Inventory's reservations queue on an item's row lock), so
    /// slowness there is progress, not a dead peer: a try gets <see cref="ServiceClientOptions.QueuedAttemptTimeout"/>
    /// and is not retried when it runs out, since cancelling it gives up its place in the queue and a retry
    /// starts again at the end. Refused connections and 5xx answers are still retried.
    /// </summary>
    MayQueue,
}

/// <summary>Typed clients of other Shop services' internal APIs: service key, discovery and a pipeline for calls a user waits on.</summary>
public static class InternalServiceClients
{
    /// <param name="service">The service's name in service discovery, e.g. <c>users</c>.</param>
    /// <param name="kind">Whether the calls may wait their turn at the other service (see <see cref="ServiceCallKind"/>).</param>
    public static IHttpClientBuilder AddInternalServiceClient<TClient>(this IHostApplicationBuilder builder, string service, ServiceCallKind kind = ServiceCallKind.Quick)
        where TClient : class
    {
        // Read now: the client and its pipeline are built with them.
        builder.AddStartupSettings("ServiceClients", new ServiceClientOptionsCheck());
        builder.AddStartupSettings("ServiceAuth", new ServiceCallerOptionsCheck());
        var options = builder.GetStartupSettings<ServiceClientOptions>("ServiceClients");
        var serviceKey = builder.GetStartupSettings<ServiceCallerOptions>("ServiceAuth").ApiKey;
        var attemptTimeout = kind == ServiceCallKind.MayQueue ? options.QueuedAttemptTimeout : options.AttemptTimeout;
        var client = builder.Services.AddHttpClient<TClient>(c =>
        {
            c.BaseAddress = new Uri($"http://{service}");
            c.DefaultRequestHeaders.Add(ShopAuthentication.ServiceKeyHeader, serviceKey);
            c.Timeout = Timeout.InfiniteTimeSpan; // the resilience pipeline owns timeouts
        });
        // Replace the defaults' pipeline with one tuned for calls a user is waiting on. The internal APIs
        // are idempotent (reservations are keyed by order id), so retrying POSTs is safe; the circuit
        // breaker turns a dead dependency into instant 503s after a handful of failures.
#pragma warning disable EXTEXP0001 // experimental, but the documented way to replace the default pipeline
        client.RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        client.AddStandardResilienceHandler(o =>
        {
            o.AttemptTimeout.Timeout = attemptTimeout;
            o.TotalRequestTimeout.Timeout = options.TotalTimeout;
            o.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(Math.Max(10, attemptTimeout.TotalSeconds * 2));
            o.CircuitBreaker.MinimumThroughput = 10;
            o.CircuitBreaker.FailureRatio = 0.5;
            o.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(5);
            o.Retry.MaxRetryAttempts = 2;
            o.Retry.Delay = TimeSpan.FromMilliseconds(200);
            o.Retry.UseJitter = true;
            if (kind == ServiceCallKind.MayQueue)
            {
                o.Retry.ShouldHandle = args => ValueTask.FromResult(
                    HttpClientResiliencePredicates.IsTransient(args.Outcome) && args.Outcome.Exception is not Polly.Timeout.TimeoutRejectedException);
            }
        });
        return client;
    }

    /// <summary>True when the exception means the other service could not answer (as opposed to the caller giving up).</summary>
    public static bool IsUnavailability(Exception e, CancellationToken ct) =>
        e is HttpRequestException or Polly.CircuitBreaker.BrokenCircuitException or Polly.Timeout.TimeoutRejectedException
        || (e is OperationCanceledException && !ct.IsCancellationRequested);
}

/// <summary>An account as other services need it: to take an order, and to check a token's security stamp.</summary>
public sealed record AccountStatus(int Id, string Role, bool IsActive, int SecurityStamp);

/// <summary>Users' internal account API, with the service key. Also the other services' source of security stamps.</summary>
public sealed class UsersAccountClient(HttpClient http, IOptions<JsonOptions> json) : IAccountStampSource
{
    /// <summary>The account now (read from Users' database, not a cache), or null when there is none.</summary>
    /// <exception cref="ServiceUnavailableException">Users cannot answer now.</exception>
    public async Task<AccountStatus?> GetStatusAsync(int userId, CancellationToken ct)
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
                throw ServiceUnavailableException.FromAnswer("users", response);
            }
            return await response.Content.ReadFromJsonAsync<AccountStatus>(json.Value.SerializerOptions, ct);
        }
        catch (Exception e) when (InternalServiceClients.IsUnavailability(e, ct))
        {
            throw new ServiceUnavailableException("users", e);
        }
    }

    public async Task<int?> GetStampAsync(int userId, CancellationToken ct) => (await GetStatusAsync(userId, ct))?.SecurityStamp;
}
