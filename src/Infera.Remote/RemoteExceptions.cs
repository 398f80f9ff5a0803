namespace Infera.Remote;

/// <summary>Thrown when a streamed response broke off after tokens were delivered: it is incomplete and was not retried
/// (a retry would repeat what the caller already has).</summary>
public sealed class RemoteStreamException : InferaException
{
    /// <summary>Initializes a new instance of the <see cref="RemoteStreamException"/> class.</summary>
    /// <param name="endpoint">The endpoint that failed.</param>
    /// <param name="innerException">What failed.</param>
    public RemoteStreamException(string endpoint, Exception? innerException)
        : base($"The endpoint {endpoint} failed after the response started streaming ({innerException?.GetBaseException().Message ?? "the connection broke"}); the response is incomplete and was not retried.", innerException)
    {
        Endpoint = endpoint;
    }

    /// <summary>Gets the endpoint that failed.</summary>
    public string Endpoint { get; }
}

/// <summary>Thrown when no endpoint could answer: every one tried failed before its first token, or none is available.</summary>
public sealed class RemoteEndpointsUnavailableException : InferaException
{
    /// <summary>Initializes a new instance of the <see cref="RemoteEndpointsUnavailableException"/> class.</summary>
    /// <param name="message">What was tried.</param>
    /// <param name="innerException">The last failure.</param>
    public RemoteEndpointsUnavailableException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
