// A fast webhook receiver for bench/webhooks.sh: answers 204 to every POST
// and counts them. Prints "listening on PORT".
import http from "node:http";

let n = 0;
const server = http.createServer((req, res) => {
	req.resume();
	req.on("end", () => {
		n++;
		res.writeHead(204);
		res.end();
	});
});
server.keepAliveTimeout = 60000;
server.listen(0, "127.0.0.1", () => console.log(`listening on ${server.address().port}`));
process.on("SIGTERM", () => {
	console.log(`received ${n}`);
	process.exit(0);
});
