// Chooses the execution provider from configuration ("Provider": cpu, cuda, directml, coreml), with an explicit CPU
// fallback only when "AllowCpuFallback" is true: hardware is swapped by configuration, not by code.
using Infera;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;

var configuration = new ConfigurationBuilder()
    .AddInMemoryCollection(new Dictionary<string, string?> { ["Provider"] = "cpu", ["AllowCpuFallback"] = "false" })
    .AddEnvironmentVariables("INFERA_")
    .AddCommandLine(args)
    .Build();

var providerName = configuration["Provider"]!;
var modelPath = configuration["Model"] ?? Path.Combine("..", "shared", "models", "stories260K-onnx");

foreach (var name in ExecutionProviders.Names)
{
    Console.WriteLine(ExecutionProviders.GetAvailability(name).Describe());
}

var options = new OnnxModelRunnerOptions { ExecutionProvider = ExecutionProviders.Create(providerName) };
if (configuration.GetValue<bool>("AllowCpuFallback"))
{
    options.FallbackExecutionProviders.Add(ExecutionProviders.Create("cpu"));
}

try
{
    using IChatClient client = await InferaChatClient.LoadAsync(modelPath, options);
    Console.WriteLine($"Running on: {client.GetService<ModelMetadata>()?.ExecutionProvider}");
    Console.WriteLine((await client.GetResponseAsync("Once upon a time", new ChatOptions { Temperature = 0, MaxOutputTokens = 32 })).Text);
}
catch (ExecutionProviderUnavailableException ex)
{
    Console.Error.WriteLine(ex.Message);
    Environment.ExitCode = 1;
}
