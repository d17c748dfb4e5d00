using Microsoft.AspNetCore.Connections;
using Yarp.ReverseProxy.Forwarder;

namespace Shop.Gateway;

/// <summary>
/// YARP's forwarder logs a request body the client broke as a Warning with its stack trace (~85 lines): a chunked
/// body Kestrel refused past 1 MiB (answered 413), a malformed chunk, a connection the client reset mid-body. Those
/// are the client's outcomes, answered as such (<see cref="ForwarderErrorMiddleware"/>), so this logger, given to
/// YARP's forwarder only, lowers exactly them to Debug; every other forwarding warning stays.
/// </summary>
internal sealed class ClientBodyErrorLogger<T>(ILoggerFactory factory) : ILogger<T>
{
    /// <summary>YARP's EventIds.ForwardingError ("{error}: {message}").</summary>
    private const int ForwardingError = 48;

    private readonly ILogger _inner = factory.CreateLogger<T>();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => _inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => _inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (eventId.Id == ForwardingError && ClientBodyErrors.Caused(state, exception))
        {
            logLevel = LogLevel.Debug;
        }
        if (_inner.IsEnabled(logLevel))
        {
            _inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}

internal static class ClientBodyErrors
{
    /// <summary>
    /// A <see cref="ForwarderError.RequestBodyClient"/> whose cause is on the client's side of the gateway: Kestrel
    /// refusing what the client sent, or the client's connection going away. YARP passes that cause alone, or first
    /// in an <see cref="AggregateException"/> with what the destination request then failed with.
    /// </summary>
    public static bool Caused<TState>(TState state, Exception? exception) =>
        state is IReadOnlyList<KeyValuePair<string, object?>> { Count: > 0 } values
        && values[0].Value is ForwarderError.RequestBodyClient
        && ClientCause(exception) is BadHttpRequestException or ConnectionResetException;

    /// <summary>What the client's side of a <see cref="ForwarderError.RequestBodyClient"/> failed with (see <see cref="Caused"/>).</summary>
    public static Exception? ClientCause(Exception? exception) =>
        exception is AggregateException { InnerExceptions: [var first, ..] } ? first : exception;

    /// <summary>Gives YARP's forwarder (an internal type, the implementation of <see cref="IHttpForwarder"/>) this logger.</summary>
    public static void UseClientBodyErrorLogger(IServiceCollection services)
    {
        var forwarder = services.Last(d => d.ServiceType == typeof(IHttpForwarder)).ImplementationType
            ?? throw new InvalidOperationException("YARP's IHttpForwarder is no longer registered by type: its log cannot be given the client-body filter.");
        services.AddSingleton(typeof(ILogger<>).MakeGenericType(forwarder), typeof(ClientBodyErrorLogger<>).MakeGenericType(forwarder));
    }
}
