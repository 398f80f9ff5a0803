namespace Infera;

/// <summary>The base class of the exceptions Infera throws for conditions specific to running models.</summary>
public class InferaException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="InferaException"/> class.</summary>
    public InferaException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="InferaException"/> class with a message.</summary>
    /// <param name="message">The message that describes the error.</param>
    public InferaException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="InferaException"/> class with a message and the exception that caused it.</summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public InferaException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
