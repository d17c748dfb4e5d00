using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Shop.ServiceDefaults;

/// <summary>
/// ASP.NET Core Data Protection in a service that protects nothing with it: Users, Inventory and the gateway (Orders keeps
/// its key ring in its database, encrypted). AddAuthentication and YARP register it for handlers the Shop does not use
/// (cookies, remote sign-in, session affinity), and its start-up then loads the key ring and, finding none, creates a key
/// where a container cannot keep it: three warnings in every start's logs that keys are in memory and unencrypted, about
/// keys nothing uses, from which an operator cannot tell whether sessions or secrets are at risk.
/// </summary>
public static class NoDataProtection
{
    /// <summary>
    /// No key ring at all: its start-up load is not registered, and a protector refuses to protect or unprotect, saying
    /// what to do, so a feature that starts protecting data (a cookie, antiforgery, an encrypted secret) fails on its
    /// first use rather than losing that data at the next restart or on another replica. Call it after everything that
    /// registers Data Protection (AddShopAuthentication, AddReverseProxy): a later AddDataProtection adds the load again.
    /// </summary>
    public static TBuilder AddNoDataProtection<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        services.AddDataProtection();
        services.Replace(ServiceDescriptor.Singleton<IDataProtectionProvider>(new RefusingProtector(builder.Environment.ApplicationName)));
        // Data Protection's one hosted service: it loads the key ring at start, and creates a key when there is none.
        var keyRingLoad = services.Where(d => d.ServiceType == typeof(IHostedService)
            && d.ImplementationType?.Assembly == typeof(KeyManagementOptions).Assembly).ToList();
        foreach (var descriptor in keyRingLoad)
        {
            services.Remove(descriptor);
        }
        return builder;
    }

    /// <summary>YARP creates its session-affinity protectors at start, so creating one is allowed; using one is not.</summary>
    private sealed class RefusingProtector(string service) : IDataProtector
    {
        public IDataProtector CreateProtector(string purpose) => this;

        public byte[] Protect(byte[] plaintext) => throw Refusal();

        public byte[] Unprotect(byte[] protectedData) => throw Refusal();

        private InvalidOperationException Refusal() => new(
            $"{service} has no Data Protection key ring (AddNoDataProtection): nothing in it may protect data. Data that must " +
            "be read back after a restart or on another replica needs keys persisted and shared by every replica, as Orders " +
            "keeps them (AddDataProtection().PersistKeysToDbContext, each key encrypted with a key kept outside the database); " +
            "configure that instead of AddNoDataProtection.");
    }
}
