// A constant-rate (open-loop) generator for requests that must differ, one body each (the
// single-use authorization codes of SPEC §7's authorization_code row), which h2load cannot send.
// Node's http client, not Python's asyncio: measured on the same server and row (refresh_token at
// 1,500 req/s), the Python generator sharing the two cores reported a p99 of 128 ms where h2load
// reported 21 ms; the p99 measured the generator. See bench/latency.py.
//
//   node bench/openloop.mjs <port> <path> <bodies file, one per line> <rate> <seconds> <connections> <content-type>
//
// Request i is due at start + i/rate whether or not earlier answers came; its latency counts from
// then, so a late generator or a wait for a free connection counts against the server, never for
// it. Prints {"rate", "achieved", "p99_ms", "errors"} as JSON. 127.0.0.1 only.
import fs from "node:fs";
import http from "node:http";

const [port, path, file, rateText, secondsText, connectionsText, contentType] = process.argv.slice(2);
const rate = Number(rateText);
const bodies = fs.readFileSync(file, "utf8").split("\n").filter((line) => line.length > 0);
const count = Math.min(bodies.length, Math.floor(rate * Number(secondsText)));
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(connectionsText) });
const latencies = [];
let errors = 0;
let next = 0;
const start = performance.now();

function finish() {
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const p99 = latencies.length ? latencies[Math.min(latencies.length - 1, Math.ceil(0.99 * latencies.length) - 1)] : null;
  console.log(JSON.stringify({ rate, achieved: count / elapsed, p99_ms: p99, errors }));
  agent.destroy();
}

function answered(due, ok) {
  latencies.push(performance.now() - due);
  if (!ok) errors += 1;
  if (latencies.length === count) finish();
}

function send(i) {
  const due = start + (i * 1000) / rate;
  const body = bodies[i];
  const request = http.request(
    { host: "127.0.0.1", port: Number(port), path, method: "POST", agent,
      headers: { "content-type": contentType, "content-length": Buffer.byteLength(body) } },
    (response) => {
      response.resume();
      response.on("end", () => answered(due, response.statusCode >= 200 && response.statusCode < 400));
    },
  );
  request.on("error", () => answered(due, false));
  request.end(body);
}

function tick() {
  const now = performance.now();
  while (next < count && start + (next * 1000) / rate <= now) send(next++);
  if (next < count) setTimeout(tick, Math.max(0, start + (next * 1000) / rate - performance.now()));
}

if (count === 0) finish();
else tick();
