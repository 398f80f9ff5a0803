// A generic host that registers an Infera chat client with middleware and resolves it like any IChatClient.
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

var builder = Host.CreateApplicationBuilder(args);
var modelPath = builder.Configuration["Model"] ?? Path.Combine("..", "shared", "models", "stories260K-onnx");

builder.Services.AddInferaChatClient(modelPath, options =>
    {
        options.Runner.MaxConcurrentRequests = 2;
        options.ChatClient.StopSequences.Add("The end.");
    })
    .UseLogging()
    .UseOpenTelemetry();
builder.Logging.SetMinimumLevel(LogLevel.Warning);

using var host = builder.Build();
var client = host.Services.GetRequiredService<IChatClient>();

var response = await client.GetResponseAsync("Once upon a time", new ChatOptions { Temperature = 0, MaxOutputTokens = 48 });
Console.WriteLine(response.Text);
Console.WriteLine($"[{response.Usage?.InputTokenCount} prompt tokens, {response.Usage?.OutputTokenCount} generated, finish: {response.FinishReason}]");
