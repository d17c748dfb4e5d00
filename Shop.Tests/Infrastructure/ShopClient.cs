using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Xunit;

namespace Shop.Tests.Infrastructure;

/// <summary>A thin HTTP client speaking the Shop's JSON (snake_case) with an optional bearer token.</summary>
public sealed class ShopClient(HttpClient http, string? token)
{
    public HttpClient Http { get; } = http;
    public string? Token { get; } = token;

    public Task<HttpResponseMessage> GetAsync(string path, Action<HttpRequestMessage>? configure = null) => SendAsync(HttpMethod.Get, path, null, configure);

    public Task<HttpResponseMessage> DeleteAsync(string path) => SendAsync(HttpMethod.Delete, path, null);

    public Task<HttpResponseMessage> PostJsonAsync(string path, object? body, Action<HttpRequestMessage>? configure = null) =>
        SendAsync(HttpMethod.Post, path, body is null ? null : JsonContent.Create(body), configure);

    public Task<HttpResponseMessage> PatchJsonAsync(string path, object body) =>
        SendAsync(HttpMethod.Patch, path, JsonContent.Create(body));

    public Task<HttpResponseMessage> PostRawAsync(string path, string rawJson, Action<HttpRequestMessage>? configure = null) =>
        SendAsync(HttpMethod.Post, path, new StringContent(rawJson, Encoding.UTF8, "application/json"), configure);

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (Token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        }
        configure?.Invoke(request);
        return await Http.SendAsync(request);
    }

    /// <summary>
    /// Signs in and returns the access token. A 503 is Users' own "try again" (its throttle could not count the
    /// attempt in Redis in time, or too many password checks at once): <paramref name="whyUnavailable"/> adds
    /// what explains it (Users' warnings, which CI does not keep) to the failure.
    /// </summary>
    public async Task<string> LoginAsync(string email, string password, Func<Task<string>>? whyUnavailable = null)
    {
        var response = await PostJsonAsync("/users/login", new { email, password });
        if (response.StatusCode == HttpStatusCode.ServiceUnavailable && whyUnavailable is not null)
        {
            Assert.Fail($"The sign-in of {email} got 503: {await response.Content.ReadAsStringAsync()}\n{await whyUnavailable()}");
        }
        await response.ExpectAsync(200);
        return (await response.JsonAsync()).GetProperty("access_token").GetString()!;
    }

    /// <summary>Signs in as an API client: the refresh token comes in the body.</summary>
    public async Task<(string AccessToken, string RefreshToken)> SignInAsync(string email, string password)
    {
        var response = await PostJsonAsync("/users/login", new { email, password, return_refresh_token = true });
        await response.ExpectAsync(200);
        var body = await response.JsonAsync();
        return (body.GetProperty("access_token").GetString()!, body.GetProperty("refresh_token").GetString()!);
    }

    public Task<HttpResponseMessage> RefreshAsync(string refreshToken) =>
        PostJsonAsync("/users/token/refresh", new { refresh_token = refreshToken });

    public async Task<JsonElement> PlaceOrderAsync(params (string Sku, int Qty)[] lines)
    {
        var response = await PostJsonAsync("/orders/", new { items = lines.Select(l => new { sku = l.Sku, qty = l.Qty }) });
        await response.ExpectAsync(201);
        return await response.JsonAsync();
    }

    public async Task<int> StockAsync(string sku)
    {
        var response = await GetAsync($"/inventory/{sku}");
        await response.ExpectAsync(200);
        return (await response.JsonAsync()).GetProperty("qty").GetInt32();
    }
}

public static class HttpAssertions
{
    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Asserts the status, showing the body when it is not what was expected.</summary>
    public static async Task ExpectAsync(this HttpResponseMessage response, int status)
    {
        if ((int)response.StatusCode != status)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.Fail($"Expected {status} from {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}, got {(int)response.StatusCode}: {body}");
        }
    }

    /// <summary>Asserts an RFC 9457 problem with the status, returning the body.</summary>
    public static async Task<JsonElement> ExpectProblemAsync(this HttpResponseMessage response, int status)
    {
        await response.ExpectAsync(status);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.JsonAsync();
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.True(problem.TryGetProperty("title", out _), "problem without title");
        return problem;
    }

    /// <summary>
    /// Asserts what is promised when something is away: a 503 problem with a Retry-After that shows no internals
    /// (driver names, stack traces) and a detail naming <paramref name="cause"/> (from a service, the dependency;
    /// from the gateway, the service that refuses connections).
    /// </summary>
    public static async Task<JsonElement> ExpectUnavailableAsync(this HttpResponseMessage response, string cause)
    {
        var problem = await response.ExpectProblemAsync(503);
        Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "503 without Retry-After");
        Assert.Contains(cause, problem.GetProperty("detail").GetString());
        var text = problem.GetRawText();
        Assert.DoesNotContain("Npgsql", text);
        Assert.DoesNotContain("   at ", text);
        return problem;
    }

    /// <summary>Asserts that <paramref name="answer"/> (what a write answered) shows each field exactly as <paramref name="read"/> (a later read) does.</summary>
    public static void SameAsRead(this JsonElement answer, JsonElement read, string what, params string[] fields)
    {
        foreach (var field in fields)
        {
            Assert.True(answer.GetProperty(field).GetRawText() == read.GetProperty(field).GetRawText(),
                $"{field}: {what} said {answer.GetProperty(field)}, a read says {read.GetProperty(field)}");
        }
    }

    public static async Task<JsonElement> ExpectValidationAsync(this HttpResponseMessage response, params string[] fields)
    {
        var problem = await response.ExpectProblemAsync(400);
        var errors = problem.GetProperty("errors");
        foreach (var field in fields)
        {
            Assert.True(errors.TryGetProperty(field, out _), $"expected a validation error for '{field}', got {errors}");
        }
        return problem;
    }
}
