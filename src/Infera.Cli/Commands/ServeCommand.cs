using System.CommandLine;
using System.Globalization;
using Infera.Cli.Serving;
using Infera.Models;
using Infera.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Infera.Cli.Commands;

/// <summary><c>infera serve</c>: an OpenAI- and Ollama-compatible HTTP server (Infera.Server on Kestrel): pinned models (<c>--model</c>) and every model of the library on demand.</summary>
internal static class ServeCommand
{
    internal static Command Create()
    {
        var model = new Option<string[]>("--model", "-m") { Description = "A model to pin (loaded at start, never unloaded): a library name (name:tag, org/name), a model folder, a GGUF file or an Ollama model name; repeatable. Without it, every model of the library is served on demand (and, when the library is empty, the built-in stories260K model).", AllowMultipleArgumentsPerToken = false };
        var modelsDir = new Option<string?>("--models-dir") { Description = "Serve the model folders under this folder on demand (NAME for NAME:latest, NAME@TAG for NAME:TAG) instead of the model library (INFERA_HOME, default ~/.cache/infera)." };
        var keepAlive = new Option<string?>("--keep-alive") { Description = "How long an on-demand model stays loaded after its last request: seconds or a duration such as 30s, 5m, 1h; negative keeps it; 0 unloads at once. Default: 5m." };
        var maxLoaded = new Option<int?>("--max-loaded-models") { Description = "Models loaded at once, pinned ones included; the least recently used idle model is unloaded to make room. Default: 3." };
        var maxMemory = new Option<long?>("--max-memory") { Description = "MiB that loaded models may take together (their folders' size); default: three quarters of the memory." };
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
        var command = new Command("serve", "Serve models over OpenAI's API (/v1/chat/completions, /v1/completions, /v1/models) and Ollama's (/api/chat, /api/generate, /api/tags, ...), with /health, /metrics and a chat page at / for browsers.");
        foreach (var option in new Option[] { model, host, port, apiKey, maxConcurrency, maxQueue, context, modelId, provider, timeout, bodyLimit, threads, modelsDir, keepAlive, maxLoaded, maxMemory, noUi, prefixCache })
        {
            command.Options.Add(option);
        }

        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async ct =>
        {
            var portNumber = result.GetValue(port);
            var hostName = result.GetValue(host)!;
            ServingHost.Validate(hostName, portNumber);

            OnnxModelRunnerOptions NewRunnerOptions()
            {
                var runnerOptions = ModelLocator.RunnerOptions(result.GetValue(provider), result.GetValue(threads));
                runnerOptions.MaxConcurrentRequests = result.GetValue(maxConcurrency);
                runnerOptions.MaxQueuedRequests = result.GetValue(maxQueue) ?? runnerOptions.MaxQueuedRequests;
                runnerOptions.ContextLength = result.GetValue(context);
                ModelLocator.ApplyPrefixCache(runnerOptions, result.GetValue(prefixCache));
                return runnerOptions;
            }

            using var library = new ModelLibrary();
            IModelCatalog catalog = result.GetValue(modelsDir) is { } folder ? new DirectoryModelCatalog(folder) : new LibraryModelCatalog(library);
            var catalogRoot = catalog is DirectoryModelCatalog directory ? directory.Root : library.RootDirectory;
            var pinned = new List<(ResolvedModel Model, string? Id, ModelCatalogEntry? Entry)>();
            var requested = result.GetValue(model) ?? [];
            if (result.GetValue(modelId) is not null && requested.Length > 1)
            {
                throw new ArgumentException("--model-id names one model; with several --model options each is served under its folder's or library name.");
            }

            foreach (var name in requested)
            {
                if (catalog is DirectoryModelCatalog && await catalog.FindAsync(name, ct).ConfigureAwait(false) is { } entry)
                {
                    pinned.Add((new ResolvedModel { ModelDirectory = entry.ModelPath, Name = entry.Name }, result.GetValue(modelId) ?? entry.Name, entry));
                }
                else
                {
                    var resolved = await ModelLocator.ResolveAsync(name, ct).ConfigureAwait(false);
                    pinned.Add((resolved, result.GetValue(modelId) ?? resolved.Name, LibraryModelCatalog.Entry(resolved)));
                }
            }

            if (pinned.Count == 0 && (await catalog.ListAsync(ct).ConfigureAwait(false)).Count == 0)
            {
                pinned.Add((await ModelLocator.ResolveAsync(null, ct).ConfigureAwait(false), result.GetValue(modelId), null));
            }

            var keepAliveTime = ParseKeepAlive(result.GetValue(keepAlive));
            var key = result.GetValue(apiKey) ?? ServingHost.Environment("INFERA_API_KEY");

            var builder = ServingHost.CreateBuilder(hostName, portNumber, "Infera", LogLevel.Information);
            builder.Services.AddInferaServer(options =>
            {
                foreach (var (resolved, id, entry) in pinned)
                {
                    if (entry is null)
                    {
                        options.AddModel(resolved.ModelDirectory, id, resolved.ApplyTo(NewRunnerOptions()));
                    }
                    else
                    {
                        options.AddModel(entry, id, resolved.ApplyTo(NewRunnerOptions()));
                    }
                }

                options.Catalog = catalog;
                options.ConfigureCatalogRunner = runner =>
                {
                    var defaults = NewRunnerOptions();
                    runner.ExecutionProvider = defaults.ExecutionProvider;
                    runner.MaxConcurrentRequests = defaults.MaxConcurrentRequests;
                    runner.MaxQueuedRequests = defaults.MaxQueuedRequests;
                    runner.ContextLength = defaults.ContextLength;
                    runner.IntraOpThreads = defaults.IntraOpThreads;
                };
                options.KeepAlive = keepAliveTime ?? options.KeepAlive;
                options.MaxLoadedModels = result.GetValue(maxLoaded) ?? options.MaxLoadedModels;
                if (result.GetValue(maxMemory) is long mebibytes)
                {
                    options.MaxLoadedModelBytes = mebibytes * 1024 * 1024;
                }

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
                var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? $"http://{hostName}:{portNumber}";
                var onDemand = (await catalog.ListAsync(ct).ConfigureAwait(false)).Count;
                var served = pinned.Count == 0 ? $"{onDemand} models of {catalogRoot} on demand" : string.Empty;
                if (pinned.Count > 0)
                {
                    var id = registry.ModelIds[0];
                    registry.TryGetRunner(id, out var runner);
                    served = string.Create(CultureInfo.InvariantCulture, $"'{id}' ({runner!.Metadata.ExecutionProvider}, {ModelLocator.Threads(runner.Metadata)}, {(runner is OnnxModelRunner onnx ? onnx.SchedulingMode == SchedulingMode.Batched ? "batched, " : "per request, " : string.Empty)}context {runner.Metadata.ContextLength}, up to {(runner is OnnxModelRunner chosen ? chosen.MaxConcurrentRequests : NewRunnerOptions().MaxConcurrentRequests)} requests at once)")
                        + (pinned.Count > 1 ? $" and {pinned.Count - 1} more pinned" : string.Empty)
                        + (onDemand > 0 ? $", {onDemand} more on demand" : string.Empty);
                }

                await Console.Error.WriteLineAsync(
                    $"infera: serving {served}{(key is null ? string.Empty : " (API key required)")} at {url}/v1 and {url}/api (Ollama){(result.GetValue(noUi) ? string.Empty : $", chat page at {url}/")}; Ctrl+C stops").ConfigureAwait(false);
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


    // Seconds ("300", "-1") or a duration with a unit ("30s", "5m", "1h", "250ms").
    private static TimeSpan? ParseKeepAlive(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        text = text.Trim();
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            return seconds < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(seconds);
        }

        foreach (var (unit, scale) in new[] { ("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0) })
        {
            if (text.EndsWith(unit, StringComparison.Ordinal) && double.TryParse(text[..^unit.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount))
            {
                return amount < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(amount * scale);
            }
        }

        throw new ArgumentException($"--keep-alive must be seconds or a duration such as 30s, 5m or 1h; it was '{text}'.");
    }
}
