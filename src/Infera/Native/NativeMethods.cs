using System.Runtime.InteropServices;

namespace Infera;

/// <summary>
/// P/Invokes into the ONNX Runtime GenAI native library for what its managed wrapper does not expose: the
/// continuous-batching Engine, its requests, turns and events (<c>ort_genai_c.h</c>, 0.18.0).
/// </summary>
/// <remarks>
/// Every <c>OgaResult*</c> a function returns is null on success; <see cref="Check"/> turns a non-null one into an
/// exception and frees it. Engine, event buffer, cancel, capability and pending-request calls must run on the Engine's
/// owner thread (the thread that created it); <see cref="BatchScheduler"/> keeps them there.
/// </remarks>
internal static partial class NativeMethods
{
    private const string LibraryName = "onnxruntime-genai";

    // OgaFinishReason
    internal const uint FinishReasonNone = 0;
    internal const uint FinishReasonEos = 1;
    internal const uint FinishReasonStopString = 2;
    internal const uint FinishReasonMaxGeneratedTokens = 3;
    internal const uint FinishReasonMaxSessionTokens = 4;
    internal const uint FinishReasonCancelled = 5;
    internal const uint FinishReasonFailed = 6;

    // OgaEngineEventFlags
    internal const uint EventFlagToken = 1u << 0;
    internal const uint EventFlagTurnFinished = 1u << 1;
    internal const uint EventFlagCapacityBlocked = 1u << 2;
    internal const uint EventFlagFailed = 1u << 3;
    internal const uint EventFlagRetryable = 1u << 4;

    /// <summary>Throws an <see cref="InferaException"/> carrying the message of a non-null <c>OgaResult*</c>, freeing it.</summary>
    internal static void Check(IntPtr result)
    {
        if (result != IntPtr.Zero)
        {
            Throw(result);
        }
    }

    private static void Throw(IntPtr result)
    {
        string message;
        try
        {
            message = Marshal.PtrToStringUTF8(OgaResultGetError(result)) ?? "unknown error";
        }
        finally
        {
            OgaDestroyResult(result);
        }

        throw new InferaException("ONNX Runtime GenAI Engine: " + message);
    }

    // const char* OgaResultGetError(const OgaResult* result);
    [LibraryImport(LibraryName)]
    internal static partial IntPtr OgaResultGetError(IntPtr result);

    // void OgaDestroyResult(OgaResult*);
    [LibraryImport(LibraryName)]
    internal static partial void OgaDestroyResult(IntPtr result);

    // OgaResult* OgaCreateEngine(OgaModel* model, OgaEngine** out);
    [LibraryImport(LibraryName)]
    internal static partial IntPtr OgaCreateEngine(IntPtr model, out EngineHandle engine);

    // void OgaDestroyEngine(OgaEngine* engine);
    [LibraryImport(LibraryName)]
    internal static partial void OgaDestroyEngine(IntPtr engine);

    // OgaResult* OgaEngineGetCapabilities(const OgaEngine* engine, OgaEngineCapabilities** out);
    [LibraryImport(LibraryName)]
    internal static partial IntPtr OgaEngineGetCapabilities(EngineHandle engine, out IntPtr capabilities);

    // size_t OgaEngineCapabilitiesGetConfiguredMaxBatchSize(const OgaEngineCapabilities* capabilities);
    [LibraryImport(LibraryName)]
    internal static partial nuint OgaEngineCapabilitiesGetConfiguredMaxBatchSize(IntPtr capabilities);

    // size_t OgaEngineCapabilitiesGetMaxScheduledTokens(const OgaEngineCapabilities* capabilities);
    [LibraryImport(LibraryName)]
    internal static partial nuint OgaEngineCapabilitiesGetMaxScheduledTokens(IntPtr capabilities);

    // uint64_t OgaEngineCapabilitiesGetMaxRequestLength(const OgaEngineCapabilities* capabilities);
    [LibraryImport(LibraryName)]
    internal static partial ulong OgaEngineCapabilitiesGetMaxRequestLength(IntPtr capabilities);

    // void OgaDestroyEngineCapabilities(OgaEngineCapabilities* capabilities);
    [LibraryImport(LibraryName)]
    internal static partial void OgaDestroyEngineCapabilities(IntPtr capabilities);

    // OgaResult* OgaCreateEngineEventBuffer(OgaEngine* engine, size_t capacity, OgaEngineEventBuffer** out);
    [LibraryImport(LibraryName)]
    internal static partial IntPtr OgaCreateEngineEventBuffer(EngineHandle engine, nuint capacity, out EngineEventBufferHandle buffer);

    // void OgaDestroyEngineEventBuffer(OgaEngineEventBuffer* buffer);
    [LibraryImport(LibraryName)]
    internal static partial void OgaDestroyEngineEventBuffer(IntPtr buffer);

    // OgaResult* OgaEngineRun(OgaEngine* engine, OgaEngineEventBuffer* buffer);
    [LibraryImport(LibraryName)]
    internal static partial IntPtr OgaEngineRun(EngineHandle engine, EngineEventBufferHandle buffer);

    // size_t OgaEngineEventBufferGetCount(const OgaEngineEventBuffer* buffer);
    [LibraryImport(LibraryName)]
    internal static partial nuint OgaEngineEventBufferGetCount(EngineEventBufferHandle buffer);

    // const OgaEngineEvent* OgaEngineEventBufferGet(const OgaEngineEventBuffer* buffer, size_t index);
    [LibraryImport(LibraryName)]
    internal static partial IntPtr OgaEngineEventBufferGet(EngineEventBufferHandle buffer, nuint index);

    // OgaResult* OgaEngineEventGetFlags(const OgaEngineEvent* event, OgaEngineEventFlags* out);
    [LibraryImport(LibraryName)]
    internal static partial IntPtr OgaEngineEventGetFlags(IntPtr engineEvent, out uint flags);

    // OgaResult* OgaEngineEventGetRequest(const OgaEngineEvent* event, const OgaRequest** out);
    [LibraryImport(LibraryName)]
    internal static partial IntPtr OgaEngineEventGetRequest(IntPtr engineEvent, out IntPtr request);

    // OgaResult* OgaEngineEventGetTurnId(const OgaEngineEvent* event, uint64_t* out);
    [LibraryImport(LibraryName)]
    internal static partial IntPtr OgaEngineEventGetTurnId(IntPtr engineEvent, out ulong turnId);

    // OgaResult* OgaEngineEventGetToken(const OgaEngineEvent* event, int32_t* out);
    [LibraryImport(LibraryName)]
    internal static partial IntPtr OgaEngineEventGetToken(IntPtr engineEvent, out int token);

    // OgaResult* OgaEngineEventGetFinishReason(const OgaEngineEvent* event, OgaFinishReason* out);
    [LibraryImport(LibraryName)]
    internal static partial IntPtr OgaEngineEventGetFinishReason(IntPtr engineEvent, out uint reason);

    // OgaResult* OgaEngineEventGetErrorCode(const OgaEngineEvent* event, OgaErrorCode* out);
    [LibraryImport(LibraryName)]
    internal static partial IntPtr OgaEngineEventGetErrorCode(IntPtr engineEvent, out uint errorCode);

    // OgaResult* OgaEngineEventGetUsage(const OgaEngineEvent* event, const OgaTurnUsage** out);
    [LibraryImport(LibraryName)]
    internal static partial IntPtr OgaEngineEventGetUsage(IntPtr engineEvent, out IntPtr usage);

    // OgaResult* OgaTurnUsageGetPromptTokens(const OgaTurnUsage* usage, uint64_t* out);
    [LibraryImport(LibraryName)]
    internal static partial IntPtr OgaTurnUsageGetPromptTokens(IntPtr usage, out ulong count);

    // OgaResult* OgaTurnUsageGetGeneratedTokens(const OgaTurnUsage* usage, uint64_t* out);
    [LibraryImport(LibraryName)]
    internal static partial IntPtr OgaTurnUsageGetGeneratedTokens(IntPtr usage, out ulong count);

    // OgaResult* OgaEngineHasPendingRequests(OgaEngine* engine, bool* out);
    [LibraryImport(LibraryName)]
    internal static partial IntPtr OgaEngineHasPendingRequests(EngineHandle engine, [MarshalAs(UnmanagedType.U1)] out bool pending);

    // OgaResult* OgaEngineCreateRequest(OgaEngine* engine, const OgaRequestOptions* options, OgaRequest** out);
    [LibraryImport(LibraryName)]
    internal static partial IntPtr OgaEngineCreateRequest(EngineHandle engine, RequestOptionsHandle options, out RequestHandle request);

    // OgaResult* OgaCreateRequestOptions(OgaRequestOptions** out);
    [LibraryImport(LibraryName)]
    internal static partial IntPtr OgaCreateRequestOptions(out RequestOptionsHandle options);

    // void OgaDestroyRequestOptions(OgaRequestOptions* options);
    [LibraryImport(LibraryName)]
    internal static partial void OgaDestroyRequestOptions(IntPtr options);

    // OgaResult* OgaRequestOptionsSetMaxSessionTokens(OgaRequestOptions* options, uint64_t max_session_tokens);
    [LibraryImport(LibraryName)]
    internal static partial IntPtr OgaRequestOptionsSetMaxSessionTokens(RequestOptionsHandle options, ulong maxSessionTokens);

    // OgaResult* OgaRequestCreateTurnOptions(OgaRequest* request, OgaTurnOptions** out);
    [LibraryImport(LibraryName)]
    internal static partial IntPtr OgaRequestCreateTurnOptions(RequestHandle request, out TurnOptionsHandle options);

    // void OgaDestroyTurnOptions(OgaTurnOptions* options);
    [LibraryImport(LibraryName)]
    internal static partial void OgaDestroyTurnOptions(IntPtr options);

    // OgaResult* OgaTurnOptionsSetMaxGeneratedTokens(OgaTurnOptions* options, uint64_t max_generated_tokens);
    [LibraryImport(LibraryName)]
    internal static partial IntPtr OgaTurnOptionsSetMaxGeneratedTokens(TurnOptionsHandle options, ulong maxGeneratedTokens);

    // OgaResult* OgaTurnOptionsSetDoSample(OgaTurnOptions* options, bool do_sample);
    [LibraryImport(LibraryName)]
    internal static partial IntPtr OgaTurnOptionsSetDoSample(TurnOptionsHandle options, [MarshalAs(UnmanagedType.U1)] bool doSample);

    // OgaResult* OgaTurnOptionsSetTemperature(OgaTurnOptions* options, float temperature);
    [LibraryImport(LibraryName)]
    internal static partial IntPtr OgaTurnOptionsSetTemperature(TurnOptionsHandle options, float temperature);

    // OgaResult* OgaTurnOptionsSetTopP(OgaTurnOptions* options, float top_p);
    [LibraryImport(LibraryName)]
    internal static partial IntPtr OgaTurnOptionsSetTopP(TurnOptionsHandle options, float topP);

    // OgaResult* OgaTurnOptionsSetTopK(OgaTurnOptions* options, int32_t top_k);
    [LibraryImport(LibraryName)]
    internal static partial IntPtr OgaTurnOptionsSetTopK(TurnOptionsHandle options, int topK);

    // OgaResult* OgaTurnOptionsSetRepetitionPenalty(OgaTurnOptions* options, float repetition_penalty);
    [LibraryImport(LibraryName)]
    internal static partial IntPtr OgaTurnOptionsSetRepetitionPenalty(TurnOptionsHandle options, float repetitionPenalty);

    // OgaResult* OgaTurnOptionsSetSeed(OgaTurnOptions* options, uint64_t seed);
    [LibraryImport(LibraryName)]
    internal static partial IntPtr OgaTurnOptionsSetSeed(TurnOptionsHandle options, ulong seed);

    // OgaResult* OgaRequestBeginTurn(OgaRequest* request, const OgaTurnOptions* turn_options, const int32_t* input_ids, uint64_t input_ids_count, uint64_t* out_turn_id);
    [LibraryImport(LibraryName)]
    internal static unsafe partial IntPtr OgaRequestBeginTurn(RequestHandle request, TurnOptionsHandle options, int* inputIds, ulong inputIdsCount, out ulong turnId);

    // OgaResult* OgaRequestCancelTurn(OgaRequest* request, uint64_t turn_id, bool* out_cancelled);
    [LibraryImport(LibraryName)]
    internal static partial IntPtr OgaRequestCancelTurn(RequestHandle request, ulong turnId, [MarshalAs(UnmanagedType.U1)] out bool cancelled);

    // OgaResult* OgaRequestClose(OgaRequest* request);
    [LibraryImport(LibraryName)]
    internal static partial IntPtr OgaRequestClose(RequestHandle request);

    // void OgaDestroyRequest(OgaRequest* request);
    [LibraryImport(LibraryName)]
    internal static partial void OgaDestroyRequest(IntPtr request);
}
