// What the page keeps in this browser's localStorage: conversations, settings and the API key. Nothing is sent anywhere else.

const keys = {
  conversations: 'infera.conversations',
  active: 'infera.active',
  settings: 'infera.settings',
  apiKey: 'infera.apiKey',
};

const defaultSettings = { system: '', temperature: '', maxTokens: '', format: 'text', schema: '' };

function read(key, fallback) {
  try {
    const value = localStorage.getItem(key);
    return value === null ? fallback : JSON.parse(value);
  } catch {
    return fallback;
  }
}

function write(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
    return true;
  } catch {
    // Storage is full or disabled: the page keeps working, only without memory.
    return false;
  }
}

export const store = {
  conversations: () => {
    const list = read(keys.conversations, []);
    return Array.isArray(list) ? list : [];
  },
  saveConversations: (list) => write(keys.conversations, list),
  activeId: () => read(keys.active, null),
  saveActiveId: (id) => write(keys.active, id),
  settings: () => ({ ...defaultSettings, ...read(keys.settings, {}) }),
  saveSettings: (settings) => write(keys.settings, settings),
  apiKey: () => read(keys.apiKey, ''),
  saveApiKey: (key) => write(keys.apiKey, key),
};
