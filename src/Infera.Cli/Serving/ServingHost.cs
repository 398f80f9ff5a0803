using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Infera.Cli.Serving;

/// <summary>What <c>infera serve</c> and <c>infera router</c> share: the <c>--host</c>/<c>--port</c> checks, a slim ASP.NET Core host
/// listening there with one-line console logs on stderr, and keys read from the environment.</summary>
internal static class ServingHost
{
    /// <summary>Checks <c>--host</c> (an IP address or localhost) and <c>--port</c> (0 to 65535; 0 picks a free one).</summary>
    public static void Validate(string hostName, int port)
    {
        if (port is < 0 or > 65535)
        {
            throw new ArgumentOutOfRangeException("--port", port, "--port must be between 0 and 65535.");
        }

        if (!string.Equals(hostName, "localhost", StringComparison.OrdinalIgnoreCase) && !IPAddress.TryParse(hostName, out _))
        {
            throw new ArgumentException($"--host must be an IP address or localhost; it was '{hostName}'.");
        }
    }

    /// <summary>Creates the host builder: Kestrel on the address, warnings and errors logged, plus <paramref name="category"/> at <paramref name="level"/>.</summary>
    public static WebApplicationBuilder CreateBuilder(string hostName, int port, string category, LogLevel level)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter(category, level);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            if (IPAddress.TryParse(hostName, out var address))
            {
                kestrel.Listen(address, port);
            }
            else
            {
                kestrel.ListenLocalhost(port);
            }
        });
        return builder;
    }

    /// <summary>Reads an environment variable, <see langword="null"/> when it is unset or empty.</summary>
    public static string? Environment(string name) => System.Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;
}
