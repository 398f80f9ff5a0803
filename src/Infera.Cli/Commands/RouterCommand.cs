using System.CommandLine;
using Infera.Cli.Serving;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Infera.Cli.Commands;

/// <summary><c>infera router</c>: one OpenAI- and Ollama-compatible endpoint over several servers (Infera.Router on YARP).</summary>
internal static class RouterCommand
{
    internal static Command Create()
    {
        var backend = new Option<string[]>("--backend", "-b") { Description = "A backend's address (http://host:port of infera serve, vLLM, SGLang, TGI, llama-server or Ollama); repeatable, at least one.", AllowMultipleArgumentsPerToken = false };
        var host = new Option<string>("--host") { Description = "The address to listen on: an IP address or localhost. Default: 127.0.0.1; 0.0.0.0 listens on every interface.", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "The TCP port; 0 picks a free one. Default: 8080.", DefaultValueFactory = _ => 8080 };
        var apiKey = new Option<string?>("--api-key") { Description = "Require 'Authorization: Bearer KEY' on /v1/... and /api/... Default: the INFERA_API_KEY environment variable, or no key." };
        var backendKey = new Option<string?>("--backend-api-key") { Description = "Send 'Authorization: Bearer KEY' to the backends. Default: the INFERA_BACKEND_API_KEY environment variable, or none." };
        var healthPath = new Option<string>("--health-path") { Description = "The path probed on each backend (2xx is healthy). Default: /health (Ollama: /).", DefaultValueFactory = _ => "/health" };
        var healthInterval = new Option<double>("--health-interval") { Description = "Seconds between probes of a backend. Default: 5.", DefaultValueFactory = _ => 5 };
        var attempts = new Option<int>("--max-attempts") { Description = "Backends one request may try before its response starts. Default: 3.", DefaultValueFactory = _ => 3 };
        var affinity = new Option<int>("--affinity-chars") { Description = "Characters of the prompt (of the messages up to the first user message) that choose the backend a conversation sticks to; 0 turns affinity off. Default: 256.", DefaultValueFactory = _ => 256 };
        var command = new Command("router", "Route OpenAI (/v1/...) and Ollama (/api/...) requests over several servers: least-load with conversation affinity, health checks, model-aware routing, retries before the first byte; /health, /metrics.");
        foreach (var option in new Option[] { backend, host, port, apiKey, backendKey, healthPath, healthInterval, attempts, affinity })
        {
            command.Options.Add(option);
        }

        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async ct =>
        {
            var portNumber = result.GetValue(port);
            var hostName = result.GetValue(host)!;
            ServingHost.Validate(hostName, portNumber);

            var backends = new List<Uri>();
            foreach (var text in result.GetValue(backend) ?? [])
            {
                if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                {
                    throw new ArgumentException($"--backend must be an http:// or https:// address; it was '{text}'.");
                }

                backends.Add(uri);
            }

            if (backends.Count == 0)
            {
                throw new ArgumentException("infera router needs at least one --backend URL.");
            }

            var interval = result.GetValue(healthInterval);
            if (interval <= 0 || double.IsNaN(interval))
            {
                throw new ArgumentOutOfRangeException("--health-interval", interval, "--health-interval must be more than 0 seconds.");
            }

            if (result.GetValue(attempts) < 1)
            {
                throw new ArgumentOutOfRangeException("--max-attempts", result.GetValue(attempts), "--max-attempts must be 1 or more.");
            }

            if (result.GetValue(affinity) < 0)
            {
                throw new ArgumentOutOfRangeException("--affinity-chars", result.GetValue(affinity), "--affinity-chars must be 0 (off) or more.");
            }

            var key = result.GetValue(apiKey) ?? ServingHost.Environment("INFERA_API_KEY");
            var builder = ServingHost.CreateBuilder(hostName, portNumber, "Yarp", LogLevel.Error);
            builder.Services.AddInferaRouter(options =>
            {
                foreach (var uri in backends)
                {
                    options.Backends.Add(uri);
                }

                options.ApiKey = key;
                options.BackendApiKey = result.GetValue(backendKey) ?? ServingHost.Environment("INFERA_BACKEND_API_KEY");
                options.HealthCheckPath = result.GetValue(healthPath)!;
                options.HealthCheckInterval = TimeSpan.FromSeconds(interval);
                options.MaxAttempts = result.GetValue(attempts);
                options.AffinityPrefixChars = result.GetValue(affinity);
            });

            await using var app = builder.Build();
            app.MapInferaRouter();
            await app.StartAsync(ct).ConfigureAwait(false);
            try
            {
                var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? $"http://{hostName}:{portNumber}";
                await Console.Error.WriteLineAsync(
                    $"infera: routing over {backends.Count} backend{(backends.Count == 1 ? string.Empty : "s")}{(key is null ? string.Empty : " (API key required)")} at {url}/v1 and {url}/api (Ollama); /health, /metrics; Ctrl+C stops").ConfigureAwait(false);
                await app.WaitForShutdownAsync(ct).ConfigureAwait(false);
            }
            finally
            {
                await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            }

            return 0;
        }, cancellationToken));
        return command;
    }

}
