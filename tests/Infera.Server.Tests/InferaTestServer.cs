using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Infera.Server.Tests;

/// <summary>
/// A real Kestrel server on 127.0.0.1 with an ephemeral port, serving the endpoints of <c>MapInferaEndpoints</c>; started
/// once its models are loaded, as <c>infera serve</c> waits for them (unless <c>waitUntilReady</c> is false).
/// </summary>
internal sealed class InferaTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private InferaTestServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public Uri V1 => new(BaseAddress, "/v1");

    public IServiceProvider Services => _app.Services;

    public static async Task<InferaTestServer> StartAsync(Action<InferaServerOptions> configure, string prefix = "", bool waitUntilReady = true)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddInferaServer(configure);
        var app = builder.Build();
        app.MapInferaEndpoints(prefix);
        await app.StartAsync();
        if (waitUntilReady)
        {
            await app.Services.GetRequiredService<InferaModelRegistry>().WaitUntilReadyAsync().WaitAsync(TimeSpan.FromMinutes(2));
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new InferaTestServer(app, new Uri(address));
    }

    public HttpClient CreateClient(string? apiKey = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
