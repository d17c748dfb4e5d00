using System.Net.Sockets;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Shop.Publishing;

namespace Shop.UnitTests.Publishing;

/// <summary>
/// How the deployment model reads the app model's values: a <see cref="ReferenceExpression"/>'s
/// format (<c>{0}</c> placeholders, <c>{{</c>/<c>}}</c> escapes, the <c>uri</c> format) and each kind
/// of value it can hold, into literal text and parameter references.
/// </summary>
public sealed class ReferenceExpressionFormatTests
{
    private readonly ParameterResource _password = new("db-password", _ => "unused", secret: true);
    private readonly ContainerResource _database = new("db");
    private readonly EndpointAnnotation _tcp = new(ProtocolType.Tcp, uriScheme: "tcp", name: "tcp", port: 15432, targetPort: 5432);

    public ReferenceExpressionFormatTests()
    {
        _database.Annotations.Add(new ContainerImageAnnotation { Image = "postgres", Tag = "15" });
        _database.Annotations.Add(_tcp);
    }

    private async Task<DeploymentModelBuilder> BuilderAsync()
    {
        var model = new DistributedApplicationModel(new IResource[] { _database, _password });
        var builder = new DeploymentModelBuilder(model, new DistributedApplicationExecutionContext(DistributedApplicationOperation.Publish), Deployments.Options);
        await builder.BuildAsync(TestContext.Current.CancellationToken); // assigns the endpoints' target ports
        return builder;
    }

    private EndpointReference Endpoint => new(_database, _tcp);

    [Fact]
    public async Task A_placeholder_becomes_a_parameter_between_literal_text()
    {
        var expression = ReferenceExpression.Create($"Password={_password};Timeout=5");
        Assert.Equal("Password={0};Timeout=5", expression.Format);

        var value = (await BuilderAsync()).Resolve(expression);

        Assert.Collection(value.Segments,
            s => Assert.Equal(new LiteralSegment("Password="), s),
            s => Assert.Equal("DB_PASSWORD", Assert.IsType<ParameterSegment>(s).Key),
            s => Assert.Equal(new LiteralSegment(";Timeout=5"), s));
        Assert.True(value.IsSecret);
    }

    [Fact]
    public async Task Escaped_braces_are_literal_braces()
    {
        var expression = ReferenceExpression.Create($"{{\"password\":\"{_password}\"}}");

        var value = (await BuilderAsync()).Resolve(expression);

        Assert.Equal("{\"password\":\"{DB_PASSWORD}\"}", value.ToString());
        Assert.Single(value.Parameters);
    }

    [Fact]
    public async Task The_uri_format_names_the_parameters_uri_key_and_a_nested_expression_is_read_in_place()
    {
        var inner = ReferenceExpression.Create($"db/{_password}");
        var expression = ReferenceExpression.Create($"postgresql://postgres:{_password:uri}@{inner}");
        Assert.Equal("postgresql://postgres:{0}@{1}", expression.Format); // the format travels beside it, in StringFormats

        var value = (await BuilderAsync()).Resolve(expression);

        Assert.Equal("postgresql://postgres:{DB_PASSWORD_URI}@db/{DB_PASSWORD}", value.ToString());
    }

    [Fact]
    public async Task An_endpoint_is_its_resource_name_and_target_port_inside_the_network()
    {
        var builder = await BuilderAsync();

        Assert.Equal("tcp://db:5432", builder.Resolve(Endpoint).LiteralText);
        Assert.Equal("db", builder.Resolve(Endpoint.Property(EndpointProperty.Host)).LiteralText);
        Assert.Equal("5432", builder.Resolve(Endpoint.Property(EndpointProperty.Port)).LiteralText);
        Assert.Equal("db:5432", builder.Resolve(Endpoint.Property(EndpointProperty.HostAndPort)).LiteralText);
        Assert.Equal("tcp", builder.Resolve(Endpoint.Property(EndpointProperty.Scheme)).LiteralText);
        Assert.Equal("Host=db;Port=5432", builder.Resolve(
            ReferenceExpression.Create($"Host={Endpoint.Property(EndpointProperty.Host)};Port={Endpoint.Property(EndpointProperty.Port)}")).LiteralText);
    }

    [Fact]
    public async Task A_connection_string_resource_is_its_expression()
    {
        var connection = new ConnectionStringResource("db-connection",
            ReferenceExpression.Create($"Host={Endpoint.Property(EndpointProperty.Host)};Password={_password}"));

        var value = (await BuilderAsync()).Resolve(connection);

        Assert.Equal("Host=db;Password={DB_PASSWORD}", value.ToString());
    }

    [Fact]
    public async Task A_conditional_expression_takes_the_branch_its_condition_matches()
    {
        var conditional = ReferenceExpression.CreateConditional(
            Endpoint.Property(EndpointProperty.TlsEnabled), bool.TrueString,
            ReferenceExpression.Create($"https"), ReferenceExpression.Create($"http"));

        var value = (await BuilderAsync()).Resolve(conditional);

        Assert.Equal("http", value.LiteralText);
    }

    [Fact]
    public async Task Plain_text_and_null_are_literal_and_empty()
    {
        var builder = await BuilderAsync();

        Assert.Equal("$HOME {x}", builder.Resolve("$HOME {x}").LiteralText);
        Assert.Empty(builder.Resolve(null).Segments);
    }

    [Fact]
    public async Task A_value_of_another_kind_is_refused_by_name()
    {
        var error = Assert.Throws<NotSupportedException>(() => BuilderAsync().Result.Resolve(42));

        Assert.Contains("Int32", error.Message);
    }
}
