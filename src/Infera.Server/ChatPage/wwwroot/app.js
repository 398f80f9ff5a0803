// The chat page: conversations with the served models through the OpenAI-compatible API.
// Model text is only ever set as textContent: it is shown literally, never interpreted as HTML.

import { ApiError, listModels, streamChat } from './api.js';
import { store } from './store.js';

const $ = (id) => document.getElementById(id);
const ui = {
  sidebar: $('sidebar'), newChat: $('new-chat'), conversations: $('conversations'),
  toggleSidebar: $('toggle-sidebar'), model: $('model'), toggleSettings: $('toggle-settings'),
  settings: $('settings'), apiKeyRow: $('api-key-row'), apiKey: $('api-key'), system: $('system'),
  temperature: $('temperature'), maxTokens: $('max-tokens'), format: $('format'), schemaRow: $('schema-row'),
  schema: $('schema'), summary: $('summary'), error: $('error'), messages: $('messages'),
  composer: $('composer'), input: $('input'), send: $('send'), stop: $('stop'),
};

const state = {
  conversations: store.conversations(),
  current: null,
  settings: store.settings(),
  apiKey: store.apiKey(),
  generation: null, // the AbortController of the reply being streamed
};

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function newConversation() {
  return { id: crypto.randomUUID?.() ?? String(Date.now()), title: '', model: ui.model.value, messages: [], updated: Date.now() };
}

function save() {
  const { current } = state;
  if (current.messages.length > 0) {
    current.updated = Date.now();
    current.title ||= current.messages.find((m) => m.role === 'user')?.content.slice(0, 60) ?? '';
    if (!state.conversations.includes(current)) state.conversations.unshift(current);
    store.saveConversations(state.conversations);
    store.saveActiveId(current.id);
  }
  renderConversations();
}

function showError(message) {
  ui.error.textContent = message;
  ui.error.hidden = !message;
}

// ---- models and the API key ----

async function loadModels() {
  try {
    const ids = await listModels(state.apiKey);
    const wanted = state.current?.model || ui.model.value;
    ui.model.replaceChildren(...ids.map((id) => element('option', '', id)));
    if (ids.includes(wanted)) ui.model.value = wanted;
    if (state.current && !state.current.model) state.current.model = ui.model.value;
    showError('');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      ui.apiKeyRow.hidden = false;
      openSettings(true);
      ui.apiKey.focus();
      showError(state.apiKey ? `The API key was refused (${error.message}).` : 'This server needs an API key: enter it under Settings.');
    } else {
      showError(`Could not list the models: ${error.message}`);
    }
  }
}

// ---- settings ----

function openSettings(open) {
  ui.settings.hidden = !open;
  ui.toggleSettings.setAttribute('aria-expanded', String(open));
}

function readSettings() {
  state.settings = {
    system: ui.system.value,
    temperature: ui.temperature.value,
    maxTokens: ui.maxTokens.value,
    format: ui.format.value,
    schema: ui.schema.value,
  };
  store.saveSettings(state.settings);
  renderSettings();
}

function renderSettings() {
  const s = state.settings;
  ui.system.value = s.system;
  ui.temperature.value = s.temperature;
  ui.maxTokens.value = s.maxTokens;
  ui.format.value = s.format;
  ui.schema.value = s.schema;
  ui.schemaRow.hidden = s.format !== 'schema';
  ui.apiKey.value = state.apiKey;
  if (state.apiKey) ui.apiKeyRow.hidden = false;

  // Everything a request carries besides the conversation is listed here: nothing is sent that the user cannot see.
  const parts = [];
  if (s.system.trim()) parts.push('system prompt');
  if (s.temperature !== '') parts.push(`temperature ${s.temperature}`);
  if (s.maxTokens !== '') parts.push(`max ${s.maxTokens} tokens`);
  if (s.format === 'json') parts.push('JSON');
  if (s.format === 'schema') parts.push('JSON schema');
  ui.summary.textContent = parts.length ? `Sending: ${parts.join(' · ')}` : "Sending: the conversation only (the model's defaults)";
}

/** The request for the current conversation: its messages and only the options the user set. */
function buildRequest() {
  const s = state.settings;
  const messages = [];
  if (s.system.trim()) messages.push({ role: 'system', content: s.system });
  for (const m of state.current.messages) {
    if (m.role === 'user' || m.content) messages.push({ role: m.role, content: m.content });
  }
  const body = { model: state.current.model, messages, stream: true, stream_options: { include_usage: true } };
  if (s.temperature !== '') body.temperature = Number(s.temperature);
  if (s.maxTokens !== '') body.max_tokens = Number(s.maxTokens);
  if (s.format === 'json') body.response_format = { type: 'json_object' };
  if (s.format === 'schema') {
    let schema;
    try {
      schema = JSON.parse(s.schema);
    } catch (error) {
      throw new Error(`The JSON schema is not valid JSON: ${error.message}`);
    }
    body.response_format = { type: 'json_schema', json_schema: { name: 'reply', schema, strict: true } };
  }
  return body;
}

// ---- conversation ----

function statsText(stats) {
  const parts = [stats.model];
  if (stats.firstTokenMs !== null) parts.push(`${Math.round(stats.firstTokenMs)} ms to first token`);
  if (stats.tokensPerSecond !== null) parts.push(`${stats.tokensPerSecond.toFixed(1)} tokens/s`);
  parts.push(`${stats.tokens} tokens`);
  parts.push(`finish: ${stats.finishReason}`);
  if (stats.cachedTokens !== null) parts.push(`${stats.cachedTokens} cached prompt tokens`);
  return parts.join(' · ');
}

function renderMessage(message, index) {
  const item = element('li', `message ${message.role}`);
  item.append(element('div', 'role', message.role === 'user' ? 'You' : 'Assistant'));
  item.append(element('div', 'text', message.content));
  if (message.error) item.append(element('div', 'message-error', message.error));
  if (message.stats) item.append(element('div', 'stats', statsText(message.stats)));
  if (message.role === 'assistant') {
    const actions = element('div', 'actions');
    const copy = element('button', 'copy', 'Copy');
    copy.type = 'button';
    copy.addEventListener('click', () => copyText(message.content, copy));
    actions.append(copy);
    if (index === state.current.messages.length - 1) {
      const regenerate = element('button', 'regenerate', 'Regenerate');
      regenerate.type = 'button';
      regenerate.disabled = state.generation !== null;
      regenerate.addEventListener('click', regenerateLast);
      actions.append(regenerate);
    }
    item.append(actions);
  }
  return item;
}

function renderMessages() {
  ui.messages.replaceChildren(...state.current.messages.map(renderMessage));
  ui.messages.lastElementChild?.scrollIntoView({ block: 'end' });
}

function renderConversations() {
  ui.conversations.replaceChildren(...state.conversations.map((conversation) => {
    const item = element('li', conversation === state.current ? 'active' : '');
    const open = element('button', 'open', conversation.title || 'New chat');
    open.type = 'button';
    open.addEventListener('click', () => switchTo(conversation));
    const remove = element('button', 'delete', '×');
    remove.type = 'button';
    remove.setAttribute('aria-label', `Delete "${conversation.title}"`);
    remove.addEventListener('click', () => deleteConversation(conversation));
    item.append(open, remove);
    return item;
  }));
}

function switchTo(conversation) {
  stop();
  state.current = conversation;
  if (conversation.model && [...ui.model.options].some((o) => o.value === conversation.model)) ui.model.value = conversation.model;
  else conversation.model = ui.model.value;
  store.saveActiveId(conversation.id);
  document.body.classList.remove('sidebar-open');
  renderConversations();
  renderMessages();
}

function deleteConversation(conversation) {
  state.conversations = state.conversations.filter((c) => c !== conversation);
  store.saveConversations(state.conversations);
  if (conversation === state.current) switchTo(newConversation());
  else renderConversations();
}

async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // No clipboard API (a page served over plain HTTP to another machine): copy through a selection.
    const area = element('textarea');
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
  button.textContent = 'Copied';
  setTimeout(() => { button.textContent = 'Copy'; }, 1500);
}

function setBusy(busy) {
  ui.send.hidden = busy;
  ui.stop.hidden = !busy;
  for (const button of ui.messages.querySelectorAll('.regenerate')) button.disabled = busy;
}

/** Streams the assistant's reply to the current conversation into a new message. */
async function generate() {
  const conversation = state.current;
  let body;
  try {
    body = buildRequest();
  } catch (error) {
    showError(error.message);
    return;
  }

  const message = { role: 'assistant', content: '' };
  conversation.messages.push(message);
  const controller = new AbortController();
  state.generation = controller;
  renderMessages();
  setBusy(true);
  showError('');

  const item = ui.messages.lastElementChild;
  const text = item.querySelector('.text');
  const started = performance.now();
  let firstToken = null;
  let pieces = 0;
  let outcome = { finishReason: null, usage: null };
  try {
    outcome = await streamChat(body, state.apiKey, controller.signal, (piece) => {
      firstToken ??= performance.now();
      pieces++;
      message.content += piece;
      if (conversation === state.current) {
        const follow = ui.messages.scrollHeight - ui.messages.scrollTop - ui.messages.clientHeight < 40;
        text.textContent = message.content;
        if (follow) ui.messages.scrollTop = ui.messages.scrollHeight;
      }
    });
  } catch (error) {
    if (error.name === 'AbortError') {
      outcome.finishReason = 'stopped';
    } else {
      message.error = error.message;
      showError(error.message);
      if (error instanceof ApiError && error.status === 401) {
        ui.apiKeyRow.hidden = false;
        openSettings(true);
      }
    }
  } finally {
    const ended = performance.now();
    const tokens = outcome.usage?.completion_tokens ?? pieces;
    message.stats = {
      model: body.model,
      firstTokenMs: firstToken === null ? null : firstToken - started,
      // The decode rate: tokens after the first over the time after the first.
      tokensPerSecond: firstToken !== null && tokens > 1 && ended > firstToken ? (tokens - 1) / ((ended - firstToken) / 1000) : null,
      tokens,
      finishReason: outcome.finishReason ?? (message.error ? 'error' : 'unknown'),
      cachedTokens: outcome.usage?.prompt_tokens_details?.cached_tokens ?? null,
    };
    if (state.generation === controller) state.generation = null;
    setBusy(state.generation !== null);
    save();
    if (conversation === state.current) renderMessages();
  }
}

function stop() {
  state.generation?.abort();
}

function regenerateLast() {
  const messages = state.current.messages;
  if (state.generation || messages.at(-1)?.role !== 'assistant') return;
  messages.pop();
  generate();
}

function submit() {
  const content = ui.input.value;
  if (state.generation || !content.trim()) return;
  if (!ui.model.value) {
    showError('No model to send to: the model list could not be loaded.');
    return;
  }
  state.current.model = ui.model.value;
  state.current.messages.push({ role: 'user', content });
  ui.input.value = '';
  generate();
}

// ---- wiring ----

ui.composer.addEventListener('submit', (event) => {
  event.preventDefault();
  submit();
});
ui.input.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    submit();
  }
});
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && state.generation) {
    event.preventDefault();
    stop();
  }
});
ui.stop.addEventListener('click', stop);
ui.newChat.addEventListener('click', () => {
  switchTo(newConversation());
  ui.input.focus();
});
ui.model.addEventListener('change', () => {
  state.current.model = ui.model.value;
  if (state.current.messages.length > 0) save();
});
ui.toggleSettings.addEventListener('click', () => openSettings(ui.settings.hidden));
ui.toggleSidebar.addEventListener('click', () => document.body.classList.toggle('sidebar-open'));
// On a narrow window the list lies over the conversation: a tap beside it folds it away.
document.querySelector('main').addEventListener('click', (event) => {
  if (!ui.toggleSidebar.contains(event.target)) document.body.classList.remove('sidebar-open');
});
for (const input of [ui.system, ui.temperature, ui.maxTokens, ui.format, ui.schema]) {
  input.addEventListener('input', readSettings);
}
ui.apiKey.addEventListener('change', () => {
  state.apiKey = ui.apiKey.value.trim();
  store.saveApiKey(state.apiKey);
  loadModels();
});

const activeId = store.activeId();
state.current = state.conversations.find((c) => c.id === activeId) ?? newConversation();
renderSettings();
renderConversations();
renderMessages();
await loadModels();
if (!state.current.model) state.current.model = ui.model.value;
document.body.dataset.ready = 'true';
ui.input.focus();
