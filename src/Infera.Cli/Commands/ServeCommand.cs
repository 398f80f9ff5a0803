using System.CommandLine;
using System.Globalization;
using System.Net;
using Infera.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Infera.Cli.Commands;

/// <summary><c>infera serve</c>: an OpenAI-compatible HTTP server (Infera.Server on Kestrel) for one model folder.</summary>
internal static class ServeCommand
{
    internal static Command Create()
    {
        var model = new Option<string?>("--model", "-m") { Description = "A library model name (name:tag, org/name), an ONNX Runtime GenAI model folder, a GGUF file or an Ollama model name (imported once). Without it, the built-in stories260K model (TinyStories) is served." };
        var host = new Option<string>("--host") { Description = "The address to listen on: an IP address or localhost. Default: 127.0.0.1 (this machine only); 0.0.0.0 listens on every interface.", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "The TCP port; 0 picks a free one. Default: 8080.", DefaultValueFactory = _ => 8080 };
        var apiKey = new Option<string?>("--api-key") { Description = "Require 'Authorization: Bearer KEY' on /v1/... Default: the INFERA_API_KEY environment variable, or no key." };
        var maxConcurrency = new Option<int?>("--max-concurrency") { Description = "Requests generating at once (batched together where the model allows). Default: chosen for the model and the machine (4 per Engine, one Engine per processor a small batched model leaves free, at most 16; 4 without batching)." };
        var maxQueue = new Option<int?>("--max-queue") { Description = "Requests waiting for a slot; more get 429. Default: 64." };
        var context = new Option<int?>("--context") { Description = "Cap the context length (prompt plus new tokens) below the model's." };
        var modelId = new Option<string?>("--model-id") { Description = "The model id clients name; default: the folder's name." };
        var provider = new Option<string?>("--provider") { Description = "Execution provider: cpu, cuda, directml or coreml. Default: cpu." };
        var timeout = new Option<int?>("--request-timeout") { Description = "Seconds one request may take; default 600." };
        var bodyLimit = new Option<long?>("--max-body-bytes") { Description = "The largest request body accepted, in bytes; default 4 MiB." };
        var threads = new Option<int?>("--threads") { Description = "Threads one CPU operator may use. Default: the model's genai_config.json setting, else 1 for small models and the processors shared among the Engines for large ones." };
        var noUi = new Option<bool>("--no-ui") { Description = "Do not serve the chat page at / (browsers then get 'Infera is running' as plain text, like every other client)." };
        var prefixCache = ModelLocator.PrefixCacheOption();
        var command = new Command("serve", "Serve a model over an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/completions, /v1/models, /health, /metrics) with a chat page at / for browsers.");
        foreach (var option in new Option[] { model, host, port, apiKey, maxConcurrency, maxQueue, context, modelId, provider, timeout, bodyLimit, threads, noUi, prefixCache })
        {
            command.Options.Add(option);
        }

        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async ct =>
        {
            var portNumber = result.GetValue(port);
            if (portNumber is < 0 or > 65535)
            {
                throw new ArgumentOutOfRangeException("--port", portNumber, "--port must be between 0 and 65535.");
            }

            var hostName = result.GetValue(host)!;
            if (!string.Equals(hostName, "localhost", StringComparison.OrdinalIgnoreCase) && !IPAddress.TryParse(hostName, out _))
            {
                throw new ArgumentException($"--host must be an IP address or localhost; it was '{hostName}'.");
            }

            var runnerOptions = ModelLocator.RunnerOptions(result.GetValue(provider), result.GetValue(threads));
            runnerOptions.MaxConcurrentRequests = result.GetValue(maxConcurrency);
            runnerOptions.MaxQueuedRequests = result.GetValue(maxQueue) ?? runnerOptions.MaxQueuedRequests;
            runnerOptions.ContextLength = result.GetValue(context);
            ModelLocator.ApplyPrefixCache(runnerOptions, result.GetValue(prefixCache));
            var resolved = await ModelLocator.ResolveAsync(result.GetValue(model), ct).ConfigureAwait(false);
            resolved.ApplyTo(runnerOptions);
            var key = result.GetValue(apiKey) ?? NullIfEmpty(Environment.GetEnvironmentVariable("INFERA_API_KEY"));

            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
            builder.Logging.ClearProviders();
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
            builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.Logging.AddFilter("Infera", LogLevel.Information);
            builder.WebHost.ConfigureKestrel(kestrel =>
            {
                if (IPAddress.TryParse(hostName, out var address))
                {
                    kestrel.Listen(address, portNumber);
                }
                else
                {
                    kestrel.ListenLocalhost(portNumber);
                }
            });
            builder.Services.AddInferaServer(options =>
            {
                options.AddModel(resolved.ModelDirectory, result.GetValue(modelId) ?? resolved.Name, runnerOptions);
                options.ApiKey = key;
                options.EnableChatPage = !result.GetValue(noUi);
                options.MaxRequestBodySize = result.GetValue(bodyLimit) ?? options.MaxRequestBodySize;
                if (result.GetValue(timeout) is int seconds)
                {
                    options.RequestTimeout = TimeSpan.FromSeconds(seconds);
                }
            });

            await using var app = builder.Build();
            app.MapInferaEndpoints();
            await app.StartAsync(ct).ConfigureAwait(false);
            try
            {
                var registry = app.Services.GetRequiredService<InferaModelRegistry>();
                await registry.WaitUntilReadyAsync(ct).ConfigureAwait(false);
                var id = registry.ModelIds[0];
                registry.TryGetRunner(id, out var runner);
                var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? $"http://{hostName}:{portNumber}";
                await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"infera: serving '{id}' ({runner!.Metadata.ExecutionProvider}, {ModelLocator.Threads(runner.Metadata)}, {(runner is OnnxModelRunner onnx ? onnx.SchedulingMode == SchedulingMode.Batched ? "batched, " : "per request, " : string.Empty)}context {runner.Metadata.ContextLength}, up to {(runner is OnnxModelRunner chosen ? chosen.MaxConcurrentRequests : runnerOptions.MaxConcurrentRequests)} requests at once{(key is null ? string.Empty : ", API key required")}) at {url}/v1{(result.GetValue(noUi) ? string.Empty : $", chat page at {url}/")}; Ctrl+C stops")).ConfigureAwait(false);
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

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
