using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shop.Gateway;
using Yarp.ReverseProxy.Forwarder;

namespace Shop.UnitTests.Gateway;

/// <summary>
/// Only the client's own broken request body leaves YARP's forwarder at Debug: every other forwarding error stays a
/// Warning. The full-stack side: ProblemDetailTests.A_chunked_body_over_one_mebibyte_is_refused_as_a_measured_one_is_and_not_logged_as_a_fault.
/// </summary>
public sealed class ClientBodyErrorLoggerTests
{
    // YARP's own message definition (HttpForwarder.Log), so the state is what the forwarder passes.
    private static readonly Action<ILogger, ForwarderError, string, Exception> ForwardingError =
        LoggerMessage.Define<ForwarderError, string>(LogLevel.Warning, new EventId(48, "ForwardingError"), "{error}: {message}");

    public static TheoryData<ForwarderError, Exception, LogLevel> Cases => new()
    {
        { ForwarderError.RequestBodyClient, new AggregateException(new BadHttpRequestException("Request body too large.", 413), new HttpRequestException("copy")), LogLevel.Debug },
        { ForwarderError.RequestBodyClient, new BadHttpRequestException("Unexpected end of request content.", 400), LogLevel.Debug },
        { ForwarderError.RequestBodyClient, new Microsoft.AspNetCore.Connections.ConnectionResetException("The client has disconnected"), LogLevel.Debug },
        { ForwarderError.RequestBodyClient, new IOException("something else"), LogLevel.Warning },
        { ForwarderError.RequestBodyDestination, new AggregateException(new IOException("destination"), new BadHttpRequestException("x", 400)), LogLevel.Warning },
        { ForwarderError.Request, new BadHttpRequestException("x", 400), LogLevel.Warning },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Only_a_body_the_client_broke_is_lowered(ForwarderError error, Exception exception, LogLevel expected)
    {
        var recorder = new Recorder();
        using var services = Services(recorder);
        var logger = (ILogger)services.GetRequiredService(typeof(ILogger<>).MakeGenericType(ForwarderType(services)));

        ForwardingError(logger, error, "message", exception);

        Assert.Equal([expected], recorder.Levels);
    }

    [Fact]
    public void Other_forwarder_entries_pass_unchanged()
    {
        var recorder = new Recorder();
        using var services = Services(recorder);
        var logger = (ILogger)services.GetRequiredService(typeof(ILogger<>).MakeGenericType(ForwarderType(services)));

        logger.LogWarning(new EventId(49), new BadHttpRequestException("x", 400), "another event");

        Assert.Equal([LogLevel.Warning], recorder.Levels);
    }

    private static ServiceProvider Services(Recorder recorder)
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(recorder));
        services.AddReverseProxy();
        ClientBodyErrors.UseClientBodyErrorLogger(services);
        return services.BuildServiceProvider();
    }

    private static Type ForwarderType(IServiceProvider services) => services.GetRequiredService<IHttpForwarder>().GetType();

    private sealed class Recorder : ILoggerProvider, ILogger
    {
        public List<LogLevel> Levels { get; } = [];

        public ILogger CreateLogger(string categoryName) => categoryName == "Yarp.ReverseProxy.Forwarder.HttpForwarder" ? this : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) => Levels.Add(logLevel);

        public void Dispose()
        {
        }
    }
}
