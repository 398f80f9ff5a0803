namespace Infera;

/// <summary>How an <see cref="OnnxModelRunner"/> schedules concurrent requests.</summary>
public enum SchedulingMode
{
    /// <summary>Each request runs its own generator on its own thread; concurrent requests share the CPU but not model steps.</summary>
    PerRequest,

    /// <summary>
    /// Concurrent requests are batched through ONNX Runtime GenAI's native Engine: one model step advances several
    /// requests. Used only for models whose batched results equal their sequential ones (GroupQueryAttention models).
    /// Requests the Engine cannot serve identically (Infera's own sampler, a seeded sampled request, a decoding
    /// constraint) still run one generator each.
    /// </summary>
    Batched,
}
