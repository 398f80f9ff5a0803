namespace Infera.ModelBuilder;

/// <summary>The exception thrown when a model cannot be converted or created: the input is missing, truncated or unsupported, or the output cannot be written.</summary>
/// <remarks>A conversion that throws leaves no output folder behind.</remarks>
public class ModelConversionException : InferaException
{
    /// <summary>Initializes a new instance of the <see cref="ModelConversionException"/> class.</summary>
    public ModelConversionException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ModelConversionException"/> class with a message.</summary>
    /// <param name="message">The message that describes the error.</param>
    public ModelConversionException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ModelConversionException"/> class with a message and the exception that caused it.</summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public ModelConversionException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets or initializes the input file or folder the error concerns, if any.</summary>
    public string? SourcePath { get; init; }
}
