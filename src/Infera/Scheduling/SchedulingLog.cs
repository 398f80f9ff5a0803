using Microsoft.Extensions.Logging;

namespace Infera;

/// <summary>Log messages about how a runner schedules requests.</summary>
internal static partial class SchedulingLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Model {ModelId}: batched scheduling, {Batching} batches ({WorkerCount} worker(s) of up to {BatchCapacity} rows, attention {Attention}).")]
    public static partial void Batched(ILogger logger, string modelId, string batching, int workerCount, int batchCapacity, string? attention);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Model {ModelId}: one generator per request, no batching: {Reason}")]
    public static partial void PerRequest(ILogger logger, string modelId, string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Model {ModelId}: {Threads} thread(s) per CPU operator: {Reason}.")]
    public static partial void Threads(ILogger logger, string modelId, string threads, string reason);

    [LoggerMessage(EventId = 4, Level = LogLevel.Debug, Message = "Model {ModelId}: {MiB} MiB of loaded weights moved onto 2 MiB pages in {Milliseconds} ms.")]
    public static partial void HugePages(ILogger logger, string modelId, long miB, long milliseconds);

    [LoggerMessage(EventId = 5, Level = LogLevel.Debug, Message = "Model {ModelId}: {MiB} MiB of model file pages read while loading given back.")]
    public static partial void ReleasedModelPages(ILogger logger, string modelId, long miB);

    [LoggerMessage(EventId = 6, Level = LogLevel.Debug, Message = "Model {ModelId}: ONNX Runtime's CPU memory arena is off: generators that step at the same time would wait for its lock; {Heap}.")]
    public static partial void NoCpuArena(ILogger logger, string modelId, string heap);
}
