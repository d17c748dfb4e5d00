using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Shop.ServiceDefaults;

/// <summary>
/// How every service refuses a mistaken setting: its section is bound to an options type, each rule is an options
/// validator (an <see cref="IValidateOptions{TOptions}"/>, or <c>.Validate(…)</c> on the builder <see cref="AddStartupSettings"/> returns)
/// whose message names the setting and what is wrong with its value, and the host checks them before it starts
/// (<c>ValidateOnStart</c>): an <see cref="OptionsValidationException"/> with every mistake, instead of a service
/// that starts healthy and then fails each request.
/// </summary>
public static class StartupSettings
{
    /// <summary>
    /// <typeparamref name="T"/> bound from <paramref name="section"/> and checked before the host starts, by
    /// <paramref name="check"/> and by whatever is added to the builder this returns. The binding and the check are
    /// registered once however often this is called, as a shared piece of setup may be (each internal client asks).
    /// </summary>
    public static OptionsBuilder<T> AddStartupSettings<T>(this IHostApplicationBuilder builder, string section, IValidateOptions<T>? check = null)
        where T : class
    {
        if (check is not null && !builder.Services.Any(d => d.ServiceType == typeof(IValidateOptions<T>) && d.ImplementationInstance?.GetType() == check.GetType()))
        {
            builder.Services.AddSingleton(check);
        }
        var options = new OptionsBuilder<T>(builder.Services, Options.DefaultName);
        var binding = new StartupSettingsBinding<T>(section);
        if (builder.Services.Any(d => d.ServiceType == typeof(StartupSettingsBinding<T>) && binding.Equals(d.ImplementationInstance)))
        {
            return options;
        }
        builder.Services.AddSingleton(binding);
        return options.BindConfiguration(section).ValidateOnStart();
    }

    /// <summary>Marks <typeparamref name="T"/> as bound from <see cref="Section"/>, so a second request does not bind it again.</summary>
    private sealed record StartupSettingsBinding<T>(string Section);

    /// <summary>
    /// <typeparamref name="T"/> as configured now, for what is built from it before the host starts (a signing key, a
    /// pool size, a client's timeouts), checked first by the checks <see cref="AddStartupSettings"/> registered: a
    /// mistake stops the start here with the same message, before anything is built from it.
    /// </summary>
    public static T GetStartupSettings<T>(this IHostApplicationBuilder builder, string section) where T : class, new()
    {
        var settings = builder.Configuration.GetSection(section).Get<T>() ?? new T();
        var failures = builder.Services
            .Where(d => d.ServiceType == typeof(IValidateOptions<T>))
            .Select(d => d.ImplementationInstance).OfType<IValidateOptions<T>>()
            .Select(check => check.Validate(Options.DefaultName, settings))
            .Where(result => result.Failed)
            .SelectMany(result => result.Failures ?? [])
            .ToList();
        if (failures.Count > 0)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(T), failures);
        }
        return settings;
    }
}
