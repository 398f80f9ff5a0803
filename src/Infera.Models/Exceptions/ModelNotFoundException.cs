namespace Infera.Models;

/// <summary>The exception thrown when a name is neither a model in the library nor an existing path.</summary>
public class ModelNotFoundException : ModelLibraryException
{
    /// <summary>Initializes a new instance of the <see cref="ModelNotFoundException"/> class.</summary>
    public ModelNotFoundException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ModelNotFoundException"/> class with a message.</summary>
    /// <param name="message">The message that describes the error.</param>
    public ModelNotFoundException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ModelNotFoundException"/> class with a message and the exception that caused it.</summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public ModelNotFoundException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets or sets the name that was not found.</summary>
    public string? ModelName { get; init; }
}
