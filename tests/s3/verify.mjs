// Re-signs every request server.mjs logged with the npm aws4 signer (an
// implementation independent of libcurl's) and compares the Authorization
// headers. Prints {"checked": N, "methods": {...}, "mismatches": [...]}.
//   node verify.mjs LOG ACCESS_KEY_ID SECRET
import fs from 'node:fs';
import aws4 from 'aws4';

const [log, accessKeyId, secretAccessKey] = process.argv.slice(2);
const result = { checked: 0, unsigned: 0, methods: {}, mismatches: [] };
for (const line of fs.readFileSync(log, 'utf8').split('\n')) {
  if (!line) continue;
  const { method, path, headers } = JSON.parse(line);
  const auth = headers.authorization;
  if (!auth || !auth.startsWith('AWS4-HMAC-SHA256 ')) { result.unsigned++; continue; }
  const m = /Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, *SignedHeaders=([^,]+), *Signature=/.exec(auth);
  if (!m) { result.mismatches.push({ method, path, why: 'unparsable', auth }); continue; }
  const [, id, , region, service, signed] = m;
  // The headers the request carried, as it carried them (the signer picks
  // the ones to sign itself: all but Authorization, Range and a few more).
  const hs = {};
  for (const [k, v] of Object.entries(headers)) {
    if (['authorization', 'connection', 'content-length', 'transfer-encoding', 'accept', 'expect', 'range', 'user-agent'].includes(k)) continue;
    hs[k] = v;
  }
  const opts = aws4.sign({ host: headers.host, method, path, service, region, headers: hs },
                         { accessKeyId, secretAccessKey });
  result.checked++;
  result.methods[method] = (result.methods[method] || 0) + 1;
  if (id !== accessKeyId || opts.headers.Authorization !== auth)
    result.mismatches.push({ method, path, signed, ours: auth, aws4: opts.headers.Authorization });
}
console.log(JSON.stringify(result));
