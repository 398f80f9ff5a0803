// The OpenAI-compatible API of the server that served this page, addressed relative to the page.

/** A failed request: the HTTP status (0 for an error inside a stream) and the server's message. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function headers(apiKey, json) {
  const result = {};
  if (json) result['Content-Type'] = 'application/json';
  if (apiKey) result.Authorization = `Bearer ${apiKey}`;
  return result;
}

async function failure(response) {
  let message = response.statusText || 'the request failed';
  try {
    const body = await response.json();
    if (body?.error?.message) message = body.error.message;
  } catch {
    // Not an OpenAI error body; the status says enough.
  }
  return new ApiError(response.status, `${response.status}: ${message}`);
}

/** Lists the served model ids (GET v1/models). */
export async function listModels(apiKey, signal) {
  const response = await fetch('v1/models', { headers: headers(apiKey, false), signal });
  if (!response.ok) throw await failure(response);
  const body = await response.json();
  return body.data.map((model) => model.id);
}

/**
 * Streams one chat completion (POST v1/chat/completions with stream: true) and calls onText with each piece of the reply.
 * Resolves with the finish reason and the usage (present when the request asked for stream_options.include_usage).
 * Aborting the signal cancels the request, which stops generation on the server.
 */
export async function streamChat(body, apiKey, signal, onText) {
  const response = await fetch('v1/chat/completions', {
    method: 'POST',
    headers: headers(apiKey, true),
    body: JSON.stringify(body),
    signal,
  });
  if (!response.ok) throw await failure(response);

  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const result = { finishReason: null, usage: null };
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return result;
    buffer += value;
    const lines = buffer.split('\n');
    buffer = lines.pop();
    for (const raw of lines) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (!line.startsWith('data:')) continue;
      const data = line.slice(5).trim();
      if (data === '[DONE]') {
        await reader.cancel();
        return result;
      }
      const chunk = JSON.parse(data);
      if (chunk.error) throw new ApiError(0, chunk.error.message ?? 'the server stopped the reply');
      if (chunk.usage) result.usage = chunk.usage;
      const choice = chunk.choices?.[0];
      if (!choice) continue;
      if (choice.delta?.content) onText(choice.delta.content);
      if (choice.finish_reason) result.finishReason = choice.finish_reason;
    }
  }
}
