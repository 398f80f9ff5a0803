namespace Infera;

/// <summary>Who picks each token from the model's logits.</summary>
public enum SamplingMode
{
    /// <summary>ONNX Runtime GenAI's built-in search where it supports every option of a request; Infera's sampler for requests that need more (min-p, frequency or presence penalties, logit bias, log-probabilities).</summary>
    Auto,

    /// <summary>Always Infera's sampler, over the raw logits.</summary>
    Infera,

    /// <summary>Always ONNX Runtime GenAI's built-in search; requests that need Infera's sampler are rejected.</summary>
    Native,
}
