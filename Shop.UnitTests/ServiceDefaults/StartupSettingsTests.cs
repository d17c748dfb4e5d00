using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Shop.ServiceDefaults;

namespace Shop.UnitTests.ServiceDefaults;

/// <summary>How a service refuses a mistaken setting: one options check, used before the host is built and as it starts.</summary>
public sealed class StartupSettingsTests
{
    private static HostApplicationBuilder NewBuilder(params (string Key, string Value)[] settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value)));
        return builder;
    }

    [Fact]
    public void A_value_read_while_building_is_bound_from_its_section()
    {
        var builder = NewBuilder(("ServiceClients:AttemptTimeout", "00:00:02"));
        builder.AddStartupSettings("ServiceClients", new ServiceClientOptionsCheck());

        Assert.Equal(TimeSpan.FromSeconds(2), builder.GetStartupSettings<ServiceClientOptions>("ServiceClients").AttemptTimeout);
    }

    [Fact]
    public void A_value_read_while_building_is_refused_with_the_checks_message()
    {
        var builder = NewBuilder(("Database:MaxPoolSize", "0"));
        builder.AddStartupSettings<DatabaseOptions>("Database").Validate(o => o.MaxPoolSize >= 1, "Database:MaxPoolSize is below 1.");

        var refused = Assert.Throws<OptionsValidationException>(() => builder.GetStartupSettings<DatabaseOptions>("Database"));

        Assert.Equal("Database:MaxPoolSize is below 1.", refused.Message);
    }

    [Fact]
    public async Task The_host_refuses_to_start_with_a_mistake_nothing_read_while_building()
    {
        var builder = NewBuilder(("ServiceClients:TotalTimeout", "00:00:01"));
        builder.AddStartupSettings("ServiceClients", new ServiceClientOptionsCheck());
        using var host = builder.Build();

        var refused = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("ServiceClients:AttemptTimeout is 00:00:04", refused.Message);
        Assert.Contains("ServiceClients:QueuedAttemptTimeout is 00:00:09", refused.Message);
    }

    [Fact]
    public void A_check_added_by_each_client_of_a_service_is_said_once()
    {
        var builder = NewBuilder();
        builder.AddStartupSettings("ServiceAuth", new ServiceCallerOptionsCheck());
        builder.AddStartupSettings("ServiceAuth", new ServiceCallerOptionsCheck());

        var refused = Assert.Throws<OptionsValidationException>(() => builder.GetStartupSettings<ServiceCallerOptions>("ServiceAuth"));

        Assert.StartsWith("ServiceAuth:ApiKey is not set;", Assert.Single(refused.Failures));
    }

    /// <summary>Orders adds two internal clients, each asking for these settings; a second binding would bind them twice.</summary>
    [Fact]
    public void Settings_asked_for_by_each_client_of_a_service_are_bound_once()
    {
        var builder = NewBuilder(("ServiceAuth:ApiKey", "orders-key"));
        builder.AddInternalServiceClient<UsersAccountClient>("users");
        builder.AddInternalServiceClient<UsersAccountClient>("inventory", ServiceCallKind.MayQueue);

        Assert.Equal(1, builder.Services.Count(d => d.ServiceType == typeof(IConfigureOptions<ServiceClientOptions>)));
        Assert.Equal(1, builder.Services.Count(d => d.ServiceType == typeof(IConfigureOptions<ServiceCallerOptions>)));
    }

    [Theory]
    [InlineData("00:00:00", "00:00:09", "AttemptTimeout")]
    [InlineData("00:00:04", "00:00:10", "QueuedAttemptTimeout")]
    public void A_tries_limit_must_be_positive_and_shorter_than_the_total(string attempt, string queued, string setting)
    {
        var options = new ServiceClientOptions { AttemptTimeout = TimeSpan.Parse(attempt), QueuedAttemptTimeout = TimeSpan.Parse(queued), TotalTimeout = TimeSpan.FromSeconds(10) };

        var result = new ServiceClientOptionsCheck().Validate(null, options);

        Assert.StartsWith($"ServiceClients:{setting} is ", Assert.Single(result.Failures!));
        Assert.True(new ServiceClientOptionsCheck().Validate(null, new ServiceClientOptions()).Succeeded);
    }
}
