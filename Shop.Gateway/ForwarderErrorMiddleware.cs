using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Shop.Gateway;

/// <summary>
/// The gateway's own answers when forwarding fails, as problems that name the service. A service that refuses
/// the connection is not running: that is 503 Service Unavailable with a Retry-After, not YARP's 502 Bad Gateway
/// (which stays for a service that broke off or answered wrongly); 504 is a service that went quiet for longer
/// than the cluster's activity timeout. A chunked body Kestrel refused past 1 MiB while YARP forwarded it is answered
/// as the edge answers a declared one, and a chunked body Kestrel found malformed is answered 400 saying so. Any other forwarding error (a client that sent a broken body) is left to the
/// status code pages.
/// </summary>
public static class ForwarderErrorMiddleware
{
    public static async Task InvokeAsync(HttpContext context, Func<Task> next)
    {
        await next();
        if (context.GetForwarderErrorFeature() is not { } error || context.Response.HasStarted || context.RequestAborted.IsCancellationRequested)
        {
            return;
        }
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        if (error.Error == ForwarderError.RequestBodyClient && context.Response.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // No Content-Length to refuse it on at the edge: Kestrel stopped reading it at the limit, YARP set its 413.
            await problems.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = ShopProblems.BodyTooLarge() });
            return;
        }
        if (error.Error == ForwarderError.RequestBodyClient && context.Response.StatusCode == StatusCodes.Status400BadRequest
            && ClientBodyErrors.ClientCause(error.Exception) is BadHttpRequestException refused
            && context.Request.Headers.TransferEncoding.ToString().Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            // Kestrel refused the body while YARP forwarded it; its reason ("Bad chunk size data.") names the broken part.
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = new ProblemDetails
                {
                    Status = StatusCodes.Status400BadRequest,
                    Title = "Malformed request body",
                    Detail = $"The request body's chunked encoding is malformed ({refused.Message.TrimEnd('.')}): each chunk is its size in "
                        + "hexadecimal, CRLF, that many bytes, CRLF, and the body ends with a chunk of size 0 and an empty line. "
                        + "Or send the body with a Content-Length instead.",
                },
            });
            return;
        }
        var service = ServiceName(context);
        string detail;
        if (error.Error == ForwarderError.Request && error.Exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError })
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.RetryAfter = ShopProblems.RetryAfterHeader;
            detail = $"The {service} is not accepting connections (stopped or restarting). Try again in a few seconds.";
        }
        else if (context.Response.StatusCode == StatusCodes.Status504GatewayTimeout)
        {
            detail = $"The {service} did not answer in time. Try again; if it keeps happening, quote the request id when reporting it.";
        }
        else if (context.Response.StatusCode == StatusCodes.Status502BadGateway)
        {
            detail = $"The {service} broke off or answered in a way the gateway cannot pass on. Try again; if it keeps happening, quote the request id when reporting it.";
        }
        else
        {
            return;
        }
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = context.Response.StatusCode, Title = ReasonPhrases.GetReasonPhrase(context.Response.StatusCode), Detail = detail },
        });
    }

    private static string ServiceName(HttpContext context) =>
        context.GetReverseProxyFeature().Cluster.Config.ClusterId switch
        {
            GatewayRoutes.WebCluster => "web app",
            var cluster => $"{cluster} service",
        };
}
