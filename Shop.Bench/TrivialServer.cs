using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Shop.Bench;

/// <summary>
/// Scenario 4's HTTP ceiling: a Kestrel app with one endpoint returning a fixed JSON document about
/// the size of an inventory item, in a process of its own (<see cref="ChildServer"/>).
/// </summary>
public static class TrivialServer
{
    public const string Argument = "--serve-trivial";
    public const string Path = "/ping";

    private const string Body = """{"id":1,"sku":"TRIVIAL-0001","name":"A trivial response of about the size of an item","price":9.99,"qty":100000000,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}""";

    /// <summary>The child process's entry point (Program.cs dispatches <see cref="Argument"/> here).</summary>
    public static Task ServeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var body = System.Text.Encoding.UTF8.GetBytes(Body);
        app.MapGet(Path, (HttpContext context) =>
        {
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = body.Length;
            return context.Response.Body.WriteAsync(body).AsTask();
        });
        return ChildServer.ServeAsync(app);
    }

    public static Task<ChildServer> StartAsync(CancellationToken ct) => ChildServer.StartAsync("trivial server", [Argument], ct);
}
