namespace Infera;

/// <summary>The exception thrown when a runner's bounded request queue is full.</summary>
public class RequestQueueFullException : InferaException
{
    /// <summary>Initializes a new instance of the <see cref="RequestQueueFullException"/> class.</summary>
    public RequestQueueFullException()
        : base("The model's request queue is full. Retry later.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="RequestQueueFullException"/> class with a message.</summary>
    /// <param name="message">The message that describes the error.</param>
    public RequestQueueFullException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="RequestQueueFullException"/> class with a message and the exception that caused it.</summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public RequestQueueFullException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
