using Microsoft.Extensions.Logging;

namespace Infera.Server;

/// <summary>The server's log messages.</summary>
internal static partial class ServerLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "Model '{ModelId}' failed to load")]
    public static partial void ModelLoadFailed(ILogger logger, string modelId, Exception exception);

    [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "Request {Path} failed")]
    public static partial void RequestFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "Request {Path}: the client disconnected; generation stopped")]
    public static partial void ClientDisconnected(ILogger logger, string path);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Request {Path} ran out of time after {Timeout}")]
    public static partial void RequestTimedOut(ILogger logger, string path, TimeSpan timeout);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Model '{ModelId}' unloaded")]
    public static partial void ModelUnloaded(ILogger logger, string modelId);

    [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "Model '{ModelId}' loaded in {Seconds:0.00} s")]
    public static partial void ModelLoaded(ILogger logger, string modelId, double seconds);
}
