// An S3-compatible server for the tests: s3rver (which checks SigV4 with
// the access key S3RVER / secret S3RVER) behind a small recording proxy
// that writes every request's method, path and headers as one JSON line to
// LOG, so verify.mjs can re-sign them with an independent signer.
//   node server.mjs DIR LOG BUCKET...   prints {"port": P, "direct": Q}
import fs from 'node:fs';
import http from 'node:http';
import S3rver from 's3rver';

const [dir, log, ...buckets] = process.argv.slice(2);
const s3 = new S3rver({
  address: '127.0.0.1', port: 0, silent: true, directory: dir, serviceEndpoint: 'localhost',
  configureBuckets: buckets.map((name) => ({ name })),
});
const direct = await s3.run();
const out = fs.createWriteStream(log, { flags: 'a' });
const agent = new http.Agent({ keepAlive: true });

const proxy = http.createServer((req, res) => {
  out.write(JSON.stringify({ method: req.method, path: req.url, headers: req.headers }) + '\n');
  const up = http.request({
    host: '127.0.0.1', port: direct.port, method: req.method, path: req.url,
    headers: req.headers, agent,
  }, (ur) => {
    res.writeHead(ur.statusCode, ur.headers);
    ur.pipe(res);
  });
  up.on('error', () => { res.destroy(); });
  req.pipe(up);
});
proxy.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: proxy.address().port, direct: direct.port }));
});
const stop = () => { proxy.close(); s3.close().finally(() => process.exit(0)); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
