namespace Infera.Models;

/// <summary>The exception thrown when a model library operation fails: an unknown name, a bad Modelfile, a model that cannot be pulled or made runnable.</summary>
public class ModelLibraryException : InferaException
{
    /// <summary>Initializes a new instance of the <see cref="ModelLibraryException"/> class.</summary>
    public ModelLibraryException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ModelLibraryException"/> class with a message.</summary>
    /// <param name="message">The message that describes the error.</param>
    public ModelLibraryException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ModelLibraryException"/> class with a message and the exception that caused it.</summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public ModelLibraryException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
