using Microsoft.Extensions.Logging;

namespace Shop.ServiceDefaults;

/// <summary>
/// The application's logger factory, for a library that logs an expected outcome at a level meant for trouble (EF Core's
/// refused statement at Error, StackExchange.Redis' own QUIT with an exception): each entry is logged at the level
/// <paramref name="levelOf"/> gives it, through the application's providers and filters.
/// </summary>
internal sealed class LevelAdjustingLoggerFactory(ILoggerFactory inner, Func<LogLevel, EventId, Exception?, LogLevel> levelOf) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new Logger(inner.CreateLogger(categoryName), levelOf);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose()
    {
        // The application's factory: the host disposes it.
    }

    private sealed class Logger(ILogger inner, Func<LogLevel, EventId, Exception?, LogLevel> levelOf) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            logLevel = levelOf(logLevel, eventId, exception);
            if (inner.IsEnabled(logLevel))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
