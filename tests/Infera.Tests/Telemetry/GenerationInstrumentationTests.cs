using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Infera.Tests;

public sealed class GenerationInstrumentationTests : IAsyncLifetime
{
    private const string SecretPrompt = "Once upon a time a secret";

    private OnnxModelRunner _runner = null!;

    public async Task InitializeAsync() =>
        _runner = await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.Stories260KGqa), new OnnxModelRunnerOptions { ModelId = "instrumentation-test-model", IntraOpThreads = 1 });

    public async Task DisposeAsync() => await _runner.DisposeAsync();

    [Fact]
    public async Task GenerateAsync_Completed_RecordsGenAiSpanWithoutPromptText()
    {
        var activities = new ConcurrentQueue<Activity>();
        using var listener = Listen(activities);

        var count = await CountAsync(new GenerationRequest(SecretPrompt, new GenerationOptions { Temperature = 0, MaxNewTokens = 6 }));

        var activity = Assert.Single(activities, a => a.DisplayName == "text_completion instrumentation-test-model");
        Assert.Equal("text_completion", activity.GetTagItem("gen_ai.operation.name"));
        Assert.Equal("instrumentation-test-model", activity.GetTagItem("gen_ai.request.model"));
        Assert.Equal(count, activity.GetTagItem("gen_ai.usage.output_tokens"));
        Assert.Equal("batched", activity.GetTagItem("infera.scheduling.mode"));
        Assert.DoesNotContain(activity.Events, e => e.Tags.Any(t => t.Value is string s && s.Contains("secret", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task GenerateAsync_SensitiveDataEnabled_RecordsPromptAndCompletion()
    {
        var activities = new ConcurrentQueue<Activity>();
        using var listener = Listen(activities);
        InferaTelemetry.EnableSensitiveData = true;
        try
        {
            var options = new GenerationOptions { Temperature = 0, MaxNewTokens = 4, AdditionalProperties = new Dictionary<string, object?> { [InferaTelemetry.OperationNameKey] = "chat" } };
            await CountAsync(new GenerationRequest(SecretPrompt, options));
        }
        finally
        {
            InferaTelemetry.EnableSensitiveData = false;
        }

        var activity = Assert.Single(activities, a => a.DisplayName == "chat instrumentation-test-model");
        Assert.Contains(activity.Events, e => e.Name == "gen_ai.content.prompt" && Equals(e.Tags.Single().Value, SecretPrompt));
        Assert.Contains(activity.Events, e => e.Name == "gen_ai.content.completion");
    }

    [Fact]
    public async Task GenerateAsync_InvalidRequest_RecordsDurationWithErrorType()
    {
        var errors = new ConcurrentQueue<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == InferaTelemetry.SourceName && instrument.Name == "gen_ai.server.request.duration")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            var model = false;
            string? error = null;
            foreach (var tag in tags)
            {
                model |= tag is { Key: "gen_ai.request.model", Value: "instrumentation-test-model" };
                error = tag.Key == "error.type" ? tag.Value as string : error;
            }

            if (model && error is not null)
            {
                errors.Enqueue(error);
            }
        });
        listener.Start();

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => CountAsync(new GenerationRequest([1, 100_000], new GenerationOptions { MaxNewTokens = 2 })));

        Assert.Contains(typeof(ArgumentOutOfRangeException).FullName, errors);
    }

    private static ActivityListener Listen(ConcurrentQueue<Activity> into)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == InferaTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = into.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    private async Task<int> CountAsync(GenerationRequest request)
    {
        var count = 0;
        await foreach (var _ in _runner.GenerateAsync(request))
        {
            count++;
        }

        return count;
    }
}
