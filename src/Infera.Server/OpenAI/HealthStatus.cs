namespace Infera.Server;

/// <summary>The body of <c>/health</c> and <c>/health/ready</c>.</summary>
internal sealed class HealthStatus
{
    public required string Status { get; init; }

    public List<string>? Models { get; init; }
}
