using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Shop.Tests.Infrastructure;

public sealed record ReceivedWebhook(string EventType, string DeliveryHeader, string Signature, string Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;
    public string? OrderId => Json.GetProperty("data").GetProperty("order").GetProperty("id").GetString();
    public int UserId => Json.GetProperty("data").GetProperty("order").GetProperty("user_id").GetInt32();
}

/// <summary>
/// A real HTTP subscriber on 127.0.0.1 (Kestrel): records every delivery as it arrives (<see cref="Arrived"/>, before
/// any hold) and as it is accepted (<see cref="Received"/>), and answers with the status codes it is told to (then 200). Can be created before it listens, to play "down": its port
/// is held until then, so connections are refused and nothing else started meanwhile can take it.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly ConcurrentDictionary<int, int> _attemptsPerUser = new();
    private readonly ConcurrentDictionary<int, int> _failuresPerUser = new();
    private readonly ConcurrentDictionary<string, int> _inFlightPerOrder = new();
    private WebApplication? _app;
    private Socket? _portHolder;
    private int _inFlight;
    private int _maxInFlight;
    private TimeSpan _holdEach;
    private TaskCompletionSource? _released;
    private TimeSpan _heldAtMost;
    private int _heldUntilTimeout;
    private TimeSpan _answerAfter;

    public WebhookReceiver()
    {
        _portHolder = HoldPort();
        Port = ((IPEndPoint)_portHolder.LocalEndPoint!).Port;
    }

    public int Port { get; }
    public string Url => $"http://127.0.0.1:{Port}/hooks/shop";
    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();

    /// <summary>
    /// Every delivery in the order it arrived, before any hold or chosen failure: what the subscriber saw, retries and
    /// duplicates included.
    /// </summary>
    public ConcurrentQueue<ReceivedWebhook> Arrived { get; } = new();

    /// <summary>
    /// An order's id each time a delivery about it arrived while another about the same order was still in flight
    /// (not yet answered): a sender that keeps one order's events in turn never does that.
    /// </summary>
    public ConcurrentQueue<string> OrdersWithTwoInFlight { get; } = new();

    public static async Task<WebhookReceiver> StartAsync()
    {
        var receiver = new WebhookReceiver();
        await receiver.ListenAsync();
        return receiver;
    }

    /// <summary>
    /// Answer 500 to the first <paramref name="count"/> deliveries about this user's orders. Keyed by
    /// user (known before the order exists) so concurrent tests' events are not affected.
    /// </summary>
    public void FailFirst(int userId, int count) => _failuresPerUser[userId] = count;

    public int AttemptsFor(int userId) => _attemptsPerUser.GetValueOrDefault(userId);

    /// <summary>The most deliveries this receiver had in flight at once.</summary>
    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    /// <summary>
    /// Keep every delivery open for <paramref name="hold"/> (with any other hold, under the dispatcher's 5 s attempt
    /// timeout): deliveries sent together are in flight together (<see cref="MaxInFlight"/>, <see cref="OrdersWithTwoInFlight"/>),
    /// and a sender that sends one at a time never has two in flight.
    /// </summary>
    public void HoldEach(TimeSpan hold) => _holdEach = hold;

    /// <summary>Deliveries in flight now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>
    /// Keep every delivery open until <see cref="Release"/>, or for <paramref name="atMost"/> (keep it under the
    /// dispatcher's 5 s attempt timeout): a slow subscriber that still answers.
    /// </summary>
    public void HoldUntilReleased(TimeSpan atMost) => (_released, _heldAtMost) = (new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), atMost);

    /// <summary>
    /// Count and keep each delivery as it arrives, then answer it only after <paramref name="delay"/>: a subscriber
    /// that takes that long per request (outside <see cref="InFlight"/>).
    /// </summary>
    public void AnswerAfter(TimeSpan delay) => _answerAfter = delay;

    /// <summary>Lets held deliveries (and later ones) answer at once.</summary>
    public void Release() => _released?.TrySetResult();

    /// <summary>Deliveries that <see cref="HoldUntilReleased"/> held for its whole time, not released by <see cref="Release"/>.</summary>
    public int HeldUntilTimeout => Volatile.Read(ref _heldUntilTimeout);

    /// <summary>Waits (bounded) until a delivery is in flight.</summary>
    public Task<bool> WaitForInFlightAsync(TimeSpan within) =>
        Eventually.HoldsAsync(() => InFlight > 0, within, TimeSpan.FromMilliseconds(20));

    /// <summary>
    /// Waits (bounded) until a delivery about this user's orders has arrived (held or not): on the shared app a
    /// subscription gets every test's orders, so "a delivery in flight" may be another test's.
    /// </summary>
    public Task<bool> WaitForArrivalAsync(int userId, TimeSpan within) =>
        Eventually.HoldsAsync(() => Arrived.Any(r => r.UserId == userId), within, TimeSpan.FromMilliseconds(20));

    public async Task ListenAsync()
    {
        _portHolder?.Dispose();
        _portHolder = null;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{Port}");
        _app = builder.Build();
        _app.MapPost("/hooks/shop", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var webhook = new ReceivedWebhook(
                context.Request.Headers["X-Shop-Event"].ToString(),
                context.Request.Headers["X-Shop-Delivery"].ToString(),
                context.Request.Headers["X-Shop-Signature"].ToString(),
                body);
            var orderId = webhook.OrderId ?? "";
            Arrived.Enqueue(webhook);
            // Counted until the answer is returned: the sender learns the outcome only after that.
            if (_inFlightPerOrder.AddOrUpdate(orderId, 1, (_, n) => n + 1) > 1)
            {
                OrdersWithTwoInFlight.Enqueue(orderId);
            }
            try
            {
                var inFlight = Interlocked.Increment(ref _inFlight);
                try
                {
                    for (var max = Volatile.Read(ref _maxInFlight); inFlight > max; max = Volatile.Read(ref _maxInFlight))
                    {
                        Interlocked.CompareExchange(ref _maxInFlight, inFlight, max);
                    }
                    if (_holdEach > TimeSpan.Zero)
                    {
                        await Task.Delay(_holdEach);
                    }
                    if (_released is { } released && await Task.WhenAny(released.Task, Task.Delay(_heldAtMost)) != released.Task)
                    {
                        Interlocked.Increment(ref _heldUntilTimeout);
                    }
                }
                finally
                {
                    Interlocked.Decrement(ref _inFlight);
                }
                var attempt = _attemptsPerUser.AddOrUpdate(webhook.UserId, 1, (_, n) => n + 1);
                if (attempt <= _failuresPerUser.GetValueOrDefault(webhook.UserId))
                {
                    return Results.StatusCode(500);
                }
                Received.Enqueue(webhook);
                if (_answerAfter > TimeSpan.Zero)
                {
                    await Task.Delay(_answerAfter);
                }
                return Results.Ok();
            }
            finally
            {
                _inFlightPerOrder.AddOrUpdate(orderId, 0, (_, n) => n - 1);
            }
        });
        await _app.StartAsync();
    }

    /// <summary>Waits (bounded) for a delivery about the order, or returns null.</summary>
    public Task<ReceivedWebhook?> WaitForAsync(string orderId, string eventType, TimeSpan within) =>
        Eventually.ReadUntilAsync(() => Task.FromResult(Received.FirstOrDefault(r => r.EventType == eventType && r.OrderId == orderId)),
            hit => hit is not null, within, TimeSpan.FromMilliseconds(100));

    /// <summary>As a subscriber should verify: a recent <c>t</c> and any <c>v1</c> that matches (two during a secret rotation).</summary>
    public static bool SignatureIsValid(string secret, ReceivedWebhook webhook)
    {
        var parts = webhook.Signature.Split(',').Select(p => p.Split('=', 2)).ToList();
        var t = parts.Single(p => p[0] == "t")[1];
        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{webhook.Body}"));
        return Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - long.Parse(t)) < 300
            && parts.Where(p => p[0] == "v1").Any(p => CryptographicOperations.FixedTimeEquals(expected, Convert.FromHexString(p[1])));
    }

    /// <summary>
    /// A loopback port bound but not listening: connections to it are refused, and no other socket can bind it.
    /// A port that was only found free can be taken by any listener a parallel test starts (a booted app's
    /// endpoint, another receiver), and one answer there ends a "down" subscriber's pause. The protocol is left
    /// unspecified because .NET sets SO_REUSEADDR before binding a socket created as TCP on Linux, which lets
    /// another SO_REUSEADDR socket bind and listen on a port bound by one that does not listen; the kernel
    /// makes a stream socket TCP either way.
    /// </summary>
    private static Socket HoldPort()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    public async ValueTask DisposeAsync()
    {
        _portHolder?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
