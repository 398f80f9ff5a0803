namespace Infera;

/// <summary>The exception thrown when a <see cref="DecodingConstraint"/> (a JSON Schema, regular expression or grammar) cannot be compiled. It is thrown before any token is generated.</summary>
public class ConstraintCompilationException : InferaException
{
    /// <summary>Initializes a new instance of the <see cref="ConstraintCompilationException"/> class.</summary>
    public ConstraintCompilationException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ConstraintCompilationException"/> class with a message.</summary>
    /// <param name="message">The message that describes the error.</param>
    public ConstraintCompilationException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ConstraintCompilationException"/> class with a message and the exception that caused it.</summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public ConstraintCompilationException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ConstraintCompilationException"/> class for a constraint that failed to compile.</summary>
    /// <param name="constraint">The constraint.</param>
    /// <param name="reason">What the compiler reported.</param>
    /// <param name="innerException">The exception that caused this one, or <see langword="null"/>.</param>
    public ConstraintCompilationException(DecodingConstraint constraint, string reason, Exception? innerException = null)
        : base($"The {Describe(constraint?.Kind)} constraint is invalid and was not compiled: {reason}", innerException)
    {
        ArgumentNullException.ThrowIfNull(constraint);
        Constraint = constraint;
    }

    /// <summary>Gets the constraint that failed to compile, when known.</summary>
    public DecodingConstraint? Constraint { get; }

    private static string Describe(DecodingConstraintKind? kind) => kind switch
    {
        DecodingConstraintKind.JsonSchema => "JSON Schema",
        DecodingConstraintKind.Regex => "regular expression",
        DecodingConstraintKind.LarkGrammar => "Lark grammar",
        _ => "decoding",
    };
}
