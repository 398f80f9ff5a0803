using Microsoft.Extensions.Hosting;

namespace Infera.Server;

/// <summary>Starts loading the served models when the application starts, without delaying it: <c>/health</c> answers at once, <c>/health/ready</c> once loaded.</summary>
internal sealed class ModelLoadingService(InferaModelRegistry registry) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        registry.StartLoadingAll();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
