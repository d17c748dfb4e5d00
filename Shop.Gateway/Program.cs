using Scalar.AspNetCore;
using Shop.Gateway;
using Yarp.ReverseProxy.Transforms;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddGatewayTls();
builder.Services.AddHealthChecks();
builder.Services.AddReverseProxy()
    .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
    // X-Forwarded-* are what the gateway saw, never what the client claimed: the services trust them
    // (sign-in throttling counts per client address), so whatever a client sends is replaced.
    .AddTransforms(context =>
    {
        context.UseDefaultForwarders = false;
        context.AddXForwarded(ForwardedTransformActions.Set);
    })
    .AddServiceDiscoveryDestinationResolver();

var app = builder.Build();
app.UseGatewayTls();
app.UseServiceDefaults(atTheEdge: true);
app.UseMiddleware<GatewayEdgeMiddleware>();
// Route after the edge middleware: it marks SPA navigations, which decides the route.
app.UseRouting();

app.MapDefaultEndpoints(publicPrefix: "/");
app.MapScalarApiReference("/api-docs", options => options
    .WithTitle("Shop API")
    .AddDocument("users", "Users", "/users/openapi/v1.json")
    .AddDocument("orders", "Orders", "/orders/openapi/v1.json")
    .AddDocument("inventory", "Inventory", "/inventory/openapi/v1.json"));
app.MapReverseProxy(proxy =>
{
    proxy.Use(UnreachableServiceMiddleware.InvokeAsync);
    proxy.UseSessionAffinity();
    proxy.UseLoadBalancing();
    proxy.UsePassiveHealthChecks();
});

app.Run();
