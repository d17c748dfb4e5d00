using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;
using Shop.Publishing;

namespace Shop.UnitTests.Publishing;

/// <summary>The values a publish gives the parameters, and those it refuses (<see cref="PublishConventions.UnusableValue"/>).</summary>
public sealed class ParameterValuesTests
{
    private readonly ParameterResource _redisPassword = new("redis-password", _ => "unused", secret: true);
    private readonly ParameterResource _adminPassword = new("admin-password", _ => "unused", secret: true);
    private readonly DistributedApplicationModel _model;

    public ParameterValuesTests() =>
        _model = new DistributedApplicationModel(new IResource[] { new RedisResource("redis", _redisPassword), _redisPassword, _adminPassword });

    /// <summary>StackExchange.Redis splits its connection string at every ',' (no escape) and trims each value; Redis itself takes any.</summary>
    [Theory]
    [InlineData("a,b", false)]
    [InlineData(" lead", false)]
    [InlineData("trail ", false)]
    [InlineData("pa ss*w$rd\"x=y;z", true)]
    [InlineData("Ab3dE5gH7jK9mN1pQ3rS5tU7", true)]
    public void A_redis_password_is_usable_unless_the_connection_string_cannot_hold_it(string value, bool usable)
    {
        Assert.Equal(usable, PublishConventions.UnusableValue(_model, _redisPassword, value) is null);
        Assert.Null(PublishConventions.UnusableValue(_model, _adminPassword, value)); // not in a Redis connection string
    }

    /// <summary>
    /// A deployment's values go one a line into <c>.env</c> and <c>secrets/*.env</c>, which a line break ends (a
    /// <c>\r</c> too, read back), and the postgres image's initdb keeps a password's first line: no parameter may hold a
    /// control character.
    /// </summary>
    [Theory]
    [InlineData("first\nsecond")]
    [InlineData("carriage\r")]
    [InlineData("tab\there")]
    [InlineData("nul\0")]
    [InlineData("del\u007f")]
    public void A_value_with_a_control_character_is_refused_for_any_parameter(string value)
    {
        foreach (var parameter in new[] { _redisPassword, _adminPassword })
        {
            var reason = PublishConventions.UnusableValue(_model, parameter, value);
            Assert.True(reason?.Contains(PublishConventions.PrintableCharacters, StringComparison.Ordinal) == true, reason);
        }
    }

    [Fact]
    public void An_unusable_value_fails_the_publish_naming_the_parameter_and_what_it_can_be()
    {
        var parameters = new Dictionary<ParameterResource, DeployParameter> { [_redisPassword] = new("redis-password", "REDIS_PASSWORD", Secret: true) };
        var existing = new Dictionary<string, string> { ["REDIS_PASSWORD"] = "kept,edited" };

        var refused = Assert.Throws<InvalidOperationException>(() => ParameterValues.Resolve(parameters, new ConfigurationBuilder().Build(), existing, _ => { },
            (parameter, value) => PublishConventions.UnusableValue(_model, parameter, value)));

        Assert.Contains("Parameter 'redis-password' (REDIS_PASSWORD)", refused.Message);
        Assert.Contains(PublishConventions.RedisPasswordCharacters, refused.Message);
    }

    /// <summary>
    /// An optional secret (a key only a rotation sets) is empty unless set: not a random value as a secret without a
    /// default gets, and what the operator set in the output is kept.
    /// </summary>
    [Fact]
    public void An_optional_secret_is_empty_unless_set_and_keeps_what_was_set()
    {
        var optional = new ParameterResource("jwt-previous-signing-key", d => d!.GetDefaultValue(), secret: true) { Default = new OptionalParameterDefault() };
        var parameters = new Dictionary<ParameterResource, DeployParameter> { [optional] = new("jwt-previous-signing-key", "JWT_PREVIOUS_SIGNING_KEY", Secret: true) { Optional = true } };
        string Resolve(Dictionary<string, string> existing) =>
            ParameterValues.Resolve(parameters, new ConfigurationBuilder().Build(), existing, _ => { }, (_, _) => null)["JWT_PREVIOUS_SIGNING_KEY"];

        Assert.True(optional.IsOptional());
        Assert.Equal("", Resolve([]));
        Assert.Equal("old-key", Resolve(new() { ["JWT_PREVIOUS_SIGNING_KEY"] = "old-key" }));
    }

    /// <summary>
    /// The services' PostgreSQL connection strings hold their passwords in single quotes (<c>Password='…'</c>): any
    /// character but a <c>'</c>, which would end them. A value quoted nowhere is not held to that.
    /// </summary>
    [Theory]
    [InlineData("it's", false)]
    [InlineData(" pa;ss=w$rd\"x ", true)]
    [InlineData("Ab3dE5gH7jK9mN1pQ3rS5tU7", true)]
    public void A_value_in_single_quotes_is_usable_unless_it_holds_one(string value, bool usable)
    {
        var quoted = new DeployValue([new LiteralSegment("Host=db;Password='"), new ParameterSegment(Deployments.Secret, UriEncoded: false), new LiteralSegment("';Database=d")]);
        var step = new DeployStep("migrate", [], [new("ConnectionStrings__db-migrations", quoted)], []);
        var deployment = new DeploymentModel([Deployments.Project("users", steps: [step]), Deployments.Project("orders", environment: [new("ConnectionStrings__db", Deployments.ConnectionString)])], [Deployments.Secret]);

        var reason = PublishConventions.UnusableValue(deployment, Deployments.Secret, value);

        Assert.Equal(usable, reason is null);
        Assert.True(usable || reason!.Contains("ConnectionStrings__db-migrations of users", StringComparison.Ordinal) && reason.Contains(PublishConventions.QuotedValueCharacters, StringComparison.Ordinal), reason);
        // Unquoted (Deployments.ConnectionString), the same value is not refused by this rule.
        Assert.Null(PublishConventions.UnusableValue(deployment with { Services = [deployment.Services[1]] }, Deployments.Secret, value));
    }
}
