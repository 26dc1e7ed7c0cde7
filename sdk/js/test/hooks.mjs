// Module resolution hooks for native tests (see register.mjs).
const FAKE_HOST = new URL('./fake-host.mjs', import.meta.url).href;
const SDK = new URL('../src/index.js', import.meta.url).href;

export async function resolve(specifier, context, next) {
  if (specifier === 'shopcase:plugin/host@0.1.0') return { url: FAKE_HOST, shortCircuit: true };
  if (specifier === '@shopcase/sdk') return { url: SDK, shortCircuit: true };
  return next(specifier, context);
}
