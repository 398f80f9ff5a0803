// Streaming chat with a local model in a screenful: load a model folder, stream a reply, print the usage.
using Infera;
using Microsoft.Extensions.AI;

var modelPath = args.Length > 0 ? args[0] : Path.Combine("..", "shared", "models", "stories260K-onnx");
var prompt = args.Length > 1 ? args[1] : "Once upon a time";

using IChatClient client = await InferaChatClient.LoadAsync(modelPath);

var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 64 };
await foreach (var update in client.GetStreamingResponseAsync(prompt, options))
{
    Console.Write(update.Text);
    foreach (var usage in update.Contents.OfType<UsageContent>())
    {
        Console.WriteLine();
        Console.WriteLine($"[{usage.Details.InputTokenCount} prompt tokens, {usage.Details.OutputTokenCount} generated, finish: {update.FinishReason}]");
    }
}
