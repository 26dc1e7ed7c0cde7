// Validate GraphQL documents against Shopify's published Admin schemas.
//
// Usage: node validate.mjs <dir of admin_<version>.json.gz> <documents.json>
//
// <documents.json> is what `cargo run -p shopcase-shopify --example
// graphql_documents` prints. Prints one JSON object on stdout:
// {"<version>": {"<operation>": ["<error>", ...], ...}, ...}, an empty
// list for a document the version's schema accepts. xtask/src/schema.rs
// decides what passes.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { buildClientSchema, parse, validate } from "graphql";

const [dataDir, documentsPath] = process.argv.slice(2);
if (!dataDir || !documentsPath) {
  console.error("usage: node validate.mjs <schema dir> <documents.json>");
  process.exit(2);
}
const { documents } = JSON.parse(readFileSync(documentsPath, "utf8"));
const out = {};
for (const file of readdirSync(dataDir).sort()) {
  const m = /^admin_(.+)\.json\.gz$/.exec(file);
  if (!m) continue;
  const introspection = JSON.parse(gunzipSync(readFileSync(join(dataDir, file))).toString("utf8"));
  const schema = buildClientSchema(introspection.data ?? introspection);
  const results = {};
  for (const d of documents) {
    let errors;
    try {
      errors = validate(schema, parse(d.text)).map((e) => e.message);
    } catch (e) {
      errors = [`does not parse: ${e.message}`];
    }
    results[d.name] = errors;
  }
  out[m[1]] = results;
}
console.log(JSON.stringify(out));
