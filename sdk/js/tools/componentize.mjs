// Build a shopcase plugin written in JavaScript into a WebAssembly component.
//
//   node componentize.mjs --tools DIR --entry src/plugin.js --sdk sdk/js/src/index.js \
//        --wit wit/v0.1.0 --out plugin.wasm [--work DIR]
//
// --tools  a directory whose node_modules holds the pinned toolchain
//          (sdk/js/tools/package.json: @bytecodealliance/componentize-js, rolldown);
// --entry  the plugin's module, which exports `handler` (see `definePlugin`);
// --sdk    the @shopcase/sdk module the plugin imports;
// --wit    the WIT package directory (world `plugin`);
// --work   where the bundle is written (default: beside --out).
//
// Two steps, because componentize-js reads one module tree from one
// directory and resolves no package names:
// 1. rolldown bundles the plugin, the SDK and any npm packages the plugin
//    imports into one ES module; `shopcase:plugin/*` imports stay imports;
// 2. componentize-js splices the WIT bindings into its SpiderMonkey engine,
//    runs the bundle's top-level code once and snapshots the result (Wizer),
//    so each event starts from an initialised engine. Every WASI feature is
//    disabled: the component imports nothing but the shopcase host, which is
//    all the sandbox links for it.
//
// Used by `shopcase plugin build` (from a copy embedded in the binary) and by
// the repository's xtask (sdk/js/tools/componentize.mjs itself).

import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

function parseArgs(argv) {
  const known = new Set(['tools', 'entry', 'sdk', 'wit', 'out', 'work']);
  const args = {};
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    const name = flag.startsWith('--') ? flag.slice(2) : '';
    if (!known.has(name) || i + 1 >= argv.length) {
      throw new Error(`usage: componentize.mjs --tools DIR --entry FILE --sdk FILE --wit DIR --out FILE [--work DIR] (bad argument \`${flag}\`)`);
    }
    args[name] = resolve(argv[i + 1]);
  }
  for (const required of ['tools', 'entry', 'sdk', 'wit', 'out']) {
    if (!args[required]) throw new Error(`missing --${required}`);
  }
  return args;
}

/** Import an installed package's ES module entry from `tools/node_modules`. */
async function importTool(tools, name) {
  const dir = join(tools, 'node_modules', name);
  let pkg;
  try {
    pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
  } catch {
    throw new Error(`${name} is not installed in ${tools}/node_modules (run \`cargo xtask guests\` in the shopcase repository, or \`npm ci\` with sdk/js/tools/package.json there)`);
  }
  let entry = pkg.exports;
  if (entry && typeof entry === 'object' && '.' in entry) entry = entry['.'];
  if (entry && typeof entry === 'object') entry = entry.import ?? entry.default;
  entry = typeof entry === 'string' ? entry : pkg.module ?? pkg.main ?? 'index.js';
  return import(pathToFileURL(join(dir, entry)).href);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const work = args.work ?? dirname(args.out);
  await mkdir(work, { recursive: true });
  await mkdir(dirname(args.out), { recursive: true });

  const t0 = Date.now();
  const { rolldown } = await importTool(args.tools, 'rolldown');
  const bundlePath = join(work, 'plugin.bundle.js');
  const bundle = await rolldown({
    input: args.entry,
    platform: 'neutral',
    external: [/^shopcase:plugin\//],
    resolve: { alias: { '@shopcase/sdk': args.sdk } },
    logLevel: 'warn',
  });
  await bundle.write({ file: bundlePath, format: 'esm', codeSplitting: false });
  await bundle.close();
  const t1 = Date.now();

  const { componentize } = await importTool(args.tools, '@bytecodealliance/componentize-js');
  const { component } = await componentize({
    sourcePath: bundlePath,
    witPath: args.wit,
    worldName: 'plugin',
    // No WASI at all: no console, Math.random, Date.now or fetch. The
    // host's `log` replaces the console; `triggeredAt` is the only "now".
    disableFeatures: ['stdio', 'random', 'clocks', 'http', 'fetch-event'],
  });
  await writeFile(args.out, component);
  const t2 = Date.now();
  process.stderr.write(
    `componentize.mjs: bundled in ${t1 - t0} ms, componentized in ${t2 - t1} ms: ${args.out} (${component.length} bytes)\n`,
  );
}

main().catch((e) => {
  process.stderr.write(`componentize.mjs: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
