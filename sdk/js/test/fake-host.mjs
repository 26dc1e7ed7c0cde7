// A stand-in for the host's imports, shaped as componentize-js presents
// them: variants are {tag, val}, u64 are BigInts, `result` errors are thrown
// objects carrying a `payload`. Tests set `state` before calling the SDK.

export const state = {
  settings: {},
  kv: new Map(),
  logs: [],
  hostError: undefined,
};

/** Reset between tests. */
export function reset() {
  state.settings = {};
  state.kv = new Map();
  state.logs = [];
  state.hostError = undefined;
}

class ComponentError extends Error {
  constructor(payload) {
    super('host error');
    Object.defineProperty(this, 'payload', { value: payload, enumerable: true });
  }
}

function maybeFail() {
  if (state.hostError) throw new ComponentError(state.hostError);
}

export function log(level, message) {
  state.logs.push({ level, message });
}

export function setting(name) {
  return state.settings[name];
}

export function kvGet(key) {
  maybeFail();
  return state.kv.get(key);
}

export function kvSet(key, value, ttlSeconds) {
  maybeFail();
  state.kv.set(key, value);
  state.lastTtl = ttlSeconds;
}

export function kvDelete(key) {
  maybeFail();
  state.kv.delete(key);
}

export function customerHistory(customerId) {
  maybeFail();
  return { customerId, numberOfOrders: 3n, amountSpent: '120.00', currency: 'EUR', tags: [], createdAt: '', recentOrders: [] };
}

export function linkedCase(key) {
  maybeFail();
  return undefined;
}
