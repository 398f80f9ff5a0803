namespace Infera;

/// <summary>The exception thrown when a model folder is missing, incomplete or cannot be loaded.</summary>
public class ModelLoadException : InferaException
{
    /// <summary>Initializes a new instance of the <see cref="ModelLoadException"/> class.</summary>
    public ModelLoadException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ModelLoadException"/> class with a message.</summary>
    /// <param name="message">The message that describes the error.</param>
    public ModelLoadException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ModelLoadException"/> class with a message and the exception that caused it.</summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public ModelLoadException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets or initializes the model folder that failed to load.</summary>
    public string? ModelPath { get; init; }
}
