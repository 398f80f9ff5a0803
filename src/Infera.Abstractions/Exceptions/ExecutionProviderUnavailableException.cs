namespace Infera;

/// <summary>The exception thrown when an execution provider's native runtime or device is missing.</summary>
public class ExecutionProviderUnavailableException : InferaException
{
    /// <summary>Initializes a new instance of the <see cref="ExecutionProviderUnavailableException"/> class.</summary>
    public ExecutionProviderUnavailableException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ExecutionProviderUnavailableException"/> class with a message.</summary>
    /// <param name="message">The message that describes the error.</param>
    public ExecutionProviderUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ExecutionProviderUnavailableException"/> class with a message and the exception that caused it.</summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public ExecutionProviderUnavailableException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ExecutionProviderUnavailableException"/> class from an availability report.</summary>
    /// <param name="availability">The provider's availability report.</param>
    public ExecutionProviderUnavailableException(ExecutionProviderAvailability availability)
        : base((availability ?? throw new ArgumentNullException(nameof(availability))).Describe())
    {
        Availability = availability;
    }

    /// <summary>Gets the availability report: what was probed and what is missing.</summary>
    public ExecutionProviderAvailability? Availability { get; }
}
