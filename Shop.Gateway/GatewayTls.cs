namespace Shop.Gateway;

/// <summary>
/// HTTPS at the gateway itself, for a deployment with no TLS-terminating proxy in front (compose with
/// a certificate, docs/deploy.md "TLS"). On when Kestrel has an endpoint named <c>https</c>
/// (<c>Kestrel__Endpoints__https__*</c>): plain HTTP is redirected and HTTPS answers carry HSTS.
/// Off otherwise, so run mode and an Ingress-fronted cluster (TLS ends at the controller) are unchanged.
/// </summary>
public static class GatewayTls
{
    public static bool Enabled(IConfiguration configuration) => configuration.GetSection("Kestrel:Endpoints:https").Exists();

    public static WebApplicationBuilder AddGatewayTls(this WebApplicationBuilder builder)
    {
        if (Enabled(builder.Configuration))
        {
            // A year, as browsers' preload lists expect; no includeSubDomains: other hosts of the domain are not ours to pin.
            builder.Services.AddHsts(options => options.MaxAge = TimeSpan.FromDays(365));
        }
        return builder;
    }

    public static WebApplication UseGatewayTls(this WebApplication app)
    {
        if (Enabled(app.Configuration))
        {
            app.UseHsts();
            // The container health checks call /health and /alive over plain HTTP inside the network.
            app.UseWhen(context => !IsProbe(context.Request.Path), branch => branch.UseHttpsRedirection());
        }
        return app;
    }

    private static bool IsProbe(PathString path) => path == "/health" || path == "/alive";
}
