using System.Net;

namespace Infera.Models;

/// <summary>The exception thrown when the Hugging Face Hub refuses a request or a download cannot be completed or verified.</summary>
public class HuggingFaceHubException : ModelLibraryException
{
    /// <summary>Initializes a new instance of the <see cref="HuggingFaceHubException"/> class.</summary>
    public HuggingFaceHubException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="HuggingFaceHubException"/> class with a message.</summary>
    /// <param name="message">The message that describes the error.</param>
    public HuggingFaceHubException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="HuggingFaceHubException"/> class with a message and the exception that caused it.</summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public HuggingFaceHubException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets the Hub's <c>X-Error-Code</c> (<c>RepoNotFound</c>, <c>RevisionNotFound</c>, <c>EntryNotFound</c>, <c>GatedRepo</c>), or <see langword="null"/>.</summary>
    public string? ErrorCode { get; init; }

    /// <summary>Gets the HTTP status of the refused request, or <see langword="null"/> when there was no answer.</summary>
    public HttpStatusCode? StatusCode { get; init; }
}
