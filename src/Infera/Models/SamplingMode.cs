namespace Infera;

/// <summary>Who picks each token from the model's logits.</summary>
public enum SamplingMode
{
    /// <summary>
    /// Infera's sampler for requests that need it (min-p, frequency or presence penalties, logit bias,
    /// log-probabilities) and for sampled requests that run on their own generator, where it is measured no slower than
    /// GenAI's search; GenAI's search for greedy requests, requests that leave sampling to the model's defaults,
    /// constrained requests and requests batched through GenAI's Engine.
    /// </summary>
    Auto,

    /// <summary>Always Infera's sampler, over the raw logits.</summary>
    Infera,

    /// <summary>Always ONNX Runtime GenAI's built-in search; requests that need Infera's sampler are rejected.</summary>
    Native,
}
