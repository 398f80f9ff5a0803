namespace Infera.Server;

/// <summary>The sampling fields that <c>/v1/chat/completions</c> and <c>/v1/completions</c> requests share.</summary>
internal interface ISamplingRequest
{
    float? Temperature { get; set; }

    float? TopP { get; set; }

    int? TopK { get; set; }

    float? MinP { get; set; }

    long? Seed { get; set; }

    float? RepetitionPenalty { get; set; }

    List<string>? Stop { get; set; }
}
