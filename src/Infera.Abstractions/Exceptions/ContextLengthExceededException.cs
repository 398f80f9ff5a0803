namespace Infera;

/// <summary>The exception thrown when a prompt plus the requested new tokens exceed the model's context length.</summary>
public class ContextLengthExceededException : InferaException
{
    /// <summary>Initializes a new instance of the <see cref="ContextLengthExceededException"/> class.</summary>
    public ContextLengthExceededException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ContextLengthExceededException"/> class with a message.</summary>
    /// <param name="message">The message that describes the error.</param>
    public ContextLengthExceededException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ContextLengthExceededException"/> class with a message and the exception that caused it.</summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public ContextLengthExceededException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ContextLengthExceededException"/> class from the sizes involved.</summary>
    /// <param name="promptTokens">The number of prompt tokens.</param>
    /// <param name="requestedNewTokens">The number of new tokens requested.</param>
    /// <param name="contextLength">The model's context length.</param>
    public ContextLengthExceededException(int promptTokens, int requestedNewTokens, int contextLength)
        : base($"The prompt ({promptTokens} tokens) plus the requested new tokens ({requestedNewTokens}) exceed the model's context length of {contextLength} tokens. Shorten the prompt, request fewer tokens, or choose a ContextOverflowPolicy.")
    {
        PromptTokens = promptTokens;
        RequestedNewTokens = requestedNewTokens;
        ContextLength = contextLength;
    }

    /// <summary>Gets the number of prompt tokens.</summary>
    public int PromptTokens { get; }

    /// <summary>Gets the number of new tokens requested.</summary>
    public int RequestedNewTokens { get; }

    /// <summary>Gets the model's context length.</summary>
    public int ContextLength { get; }
}
