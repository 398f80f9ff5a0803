using Infera.Router;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Infera.Tests;

/// <summary>The router in this process on a loopback port, with probes every second.</summary>
internal sealed class RouterHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RouterHost(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    public Uri Url { get; }

    public static async Task<RouterHost> StartAsync(IEnumerable<Uri> backends, Action<InferaRouterOptions>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (Environment.GetEnvironmentVariable("INFERA_TEST_ROUTER_LOG") == "1")
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information);
        }
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Services.AddInferaRouter(options =>
        {
            foreach (var backend in backends)
            {
                options.Backends.Add(backend);
            }

            options.BackendApiKey = Backends.Key;
            options.HealthCheckInterval = TimeSpan.FromSeconds(1);
            options.ReactivationPeriod = TimeSpan.FromSeconds(1);
            configure?.Invoke(options);
        });
        var app = builder.Build();
        app.MapInferaRouter();
        await app.StartAsync();
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new RouterHost(app, new Uri(url));
    }

    /// <summary>Waits until the router has read every backend's model list and takes requests for each (polling <c>/health</c>).</summary>
    public async Task WaitUntilEveryBackendIsKnownAsync()
    {
        using var http = new HttpClient { BaseAddress = Url };
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var backends = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync("/health", deadline.Token)).RootElement.GetProperty("backends").EnumerateArray().ToList();
            if (backends.All(b => b.GetProperty("healthy").GetBoolean() && b.GetProperty("models").GetArrayLength() > 0))
            {
                return;
            }

            await Task.Delay(50, deadline.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
