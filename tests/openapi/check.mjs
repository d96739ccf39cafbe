// Validates the OpenAPI files with swagger-parser (the OpenAPI 3.0 schema,
// every $ref), then, given a file of real answers, each answer against the
// schema its operation documents for its status and media type (ajv).
//   node tests/openapi/check.mjs docs/openapi-ingest.yaml docs/openapi-fetcher.yaml [answers.json]
// answers.json: [{"api": "<file>", "method", "path", "status", "content_type", "body"}]
// Times: a `format: date-time` value must be written YYYY-MM-DDTHH:MM:SSZ,
// the one format of every JSON answer.
import SwaggerParser from "@apidevtools/swagger-parser";
import Ajv from "ajv";
import { readFileSync } from "node:fs";
import { basename } from "node:path";

const args = process.argv.slice(2);
const answersFile = args.find((a) => a.endsWith(".json"));
const specs = args.filter((a) => a !== answersFile);
let failures = 0;
const fail = (msg) => { failures++; console.log("FAIL " + msg); };

const docs = {};
for (const file of specs) {
	try {
		await SwaggerParser.validate(file);
		docs[basename(file)] = await SwaggerParser.dereference(file);
		console.log("ok   " + file + " is valid OpenAPI " + docs[basename(file)].openapi);
	} catch (e) {
		fail(file + ": " + e.message.split("\n").slice(0, 12).join("\n     "));
	}
}

const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addFormat("date-time", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
for (const f of ["int32", "int64", "float", "double", "byte", "binary", "password"]) ajv.addFormat(f, true);
const compiled = new WeakMap();
const validator = (schema) => {
	if (!compiled.has(schema)) compiled.set(schema, ajv.compile(schema));
	return compiled.get(schema);
};

// The operation of METHOD PATH: literal paths before templated ones.
function operation(doc, method, path) {
	const candidates = Object.keys(doc.paths)
		.map((t) => ({ t, params: (t.match(/\{/g) || []).length }))
		.sort((a, b) => a.params - b.params);
	for (const { t } of candidates) {
		const re = new RegExp("^" + t.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{[^}]*\\?\}/g, "[^/]*") + "$");
		if (re.test(path)) return { template: t, op: doc.paths[t][method.toLowerCase()] };
	}
	return null;
}

if (answersFile) {
	const answers = JSON.parse(readFileSync(answersFile, "utf8"));
	const seen = new Set();
	for (const a of answers) {
		const doc = docs[a.api];
		const what = `${a.api} ${a.method} ${a.path} → ${a.status}`;
		if (!doc) { fail(`${what}: no such API file`); continue; }
		const found = operation(doc, a.method, a.path.split("?")[0]);
		if (!found || !found.op) { fail(`${what}: not documented`); continue; }
		seen.add(`${a.api} ${a.method} ${found.template}`);
		const r = found.op.responses[String(a.status)] || found.op.responses[`${String(a.status)[0]}XX`] ||
			found.op.responses.default;
		if (!r) { fail(`${what}: status not documented for ${found.template}`); continue; }
		const type = (a.content_type || "").split(";")[0].trim();
		if (type !== "application/json" || a.body === null) continue; // only JSON bodies (not HEAD's)
		const media = r.content && (r.content[type] || r.content["application/json"]);
		if (!media || !media.schema) { fail(`${what}: a JSON answer, but no JSON schema documented`); continue; }
		const validate = validator(media.schema);
		if (!validate(a.body)) {
			fail(`${what}: ${ajv.errorsText(validate.errors, { dataVar: "body" })}\n     ${JSON.stringify(a.body).slice(0, 400)}`);
		}
	}
	console.log(`${answers.length} answers of ${seen.size} operations checked`);
	for (const s of [...seen].sort()) console.log("     " + s);
}
process.exit(failures ? 1 : 0);
