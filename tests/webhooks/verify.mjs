// Reads deliveries as JSON lines {"secret","headers","body"} on stdin and
// verifies each with the Standard Webhooks reference library, as a CRM
// would. Prints one JSON line per delivery: {"ok":true} or {"ok":false,"error"}.
// A delivery may carry "now" (unix seconds) to check an old one.
import { Webhook } from "standardwebhooks";
import { createInterface } from "node:readline";

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
	if (!line.trim()) continue;
	const d = JSON.parse(line);
	try {
		const wh = new Webhook(d.secret);
		const payload = wh.verify(d.body, d.headers);
		console.log(JSON.stringify({ ok: true, type: payload.type }));
	} catch (err) {
		console.log(JSON.stringify({ ok: false, error: String(err && err.message || err) }));
	}
}
