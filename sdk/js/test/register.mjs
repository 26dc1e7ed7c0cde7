// Run the SDK (and plugins) natively under Node: `shopcase:plugin/host@0.1.0`
// resolves to the fake host below, and `@shopcase/sdk` to the SDK.
//
//   node --import ./sdk/js/test/register.mjs --test sdk/js/test/
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
