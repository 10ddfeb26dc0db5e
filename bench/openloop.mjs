// A constant-rate (open-loop) generator: the p99 at a fixed offered rate of SPEC §7, for every
// row, the single-use authorization codes (one body each, which h2load cannot send) included.
//
//   node bench/openloop.mjs <config.json>
//
// config: {"port", "method", "path", "headers": {name: value}, "bodies": [one per request] or
// "body": one for all (or neither, for a GET), "rate", "seconds", "connections"}.
//
// Request i is due at start + i/rate whether or not earlier answers came; its latency counts from
// then, so a late generator or a wait for a free connection counts against the server, never for
// it. Prints {"rate", "achieved", "p99_ms", "errors"} as JSON; with "trace": true in the config,
// also "due" (each answered request's due time, ms since the epoch) and "latency" (ms), in the
// order answered. 127.0.0.1 only.
//
// HTTP/1.1 on plain keep-alive sockets (node:net), one request at a time on each, every request's
// bytes built before the clock starts and an answer read no further than its status line,
// Content-Length and body: measured against the bare app (python bench/latency.py --bare), it
// agrees with h2load up to 10,000 req/s, where Node's http client measured itself (a p99 of 26 ms
// at 5,000 req/s, 339 ms at 10,000).
import fs from "node:fs";
import net from "node:net";

const config = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const { port, method, path, rate } = config;
const count = config.bodies ? Math.min(config.bodies.length, Math.floor(rate * config.seconds))
  : Math.floor(rate * config.seconds);
const head = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`
  + Object.entries(config.headers ?? {}).map(([name, value]) => `${name}: ${value}\r\n`).join("");
function request(body) {
  if (body === undefined) return Buffer.from(`${head}\r\n`);
  const bytes = Buffer.from(body);
  return Buffer.concat([Buffer.from(`${head}Content-Length: ${bytes.length}\r\n\r\n`), bytes]);
}
const one = config.bodies ? null : request(config.body);
const requests = config.bodies ? config.bodies.slice(0, count).map(request) : null;
const END = Buffer.from("\r\n\r\n");
const latencies = [];
// With config.trace, each answered request's due time and latency, in the order answered
// (latencies is sorted at the end).
const dues = [];
const trace = [];
const waiting = []; // due requests with no free connection yet (indices, in order)
const free = [];
let errors = 0;
let next = 0; // the next request to fall due
let start = 0;
let done = false;

function finish() {
  if (done) return;
  done = true;
  errors += count - latencies.length; // unanswered when the grace period ran out
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const p99 = latencies.length ? latencies[Math.min(latencies.length - 1, Math.ceil(0.99 * latencies.length) - 1)] : null;
  const report = { rate, achieved: count / elapsed, p99_ms: p99, errors };
  if (config.trace) {
    report.due = dues.map((due) => Math.round(performance.timeOrigin + due));
    report.latency = trace.map((ms) => Math.round(ms * 1000) / 1000);
  }
  console.log(JSON.stringify(report));
  for (const connection of connections) connection.socket.destroy();
}

function answered(due, ok) {
  const latency = performance.now() - due;
  latencies.push(latency);
  if (config.trace) {
    dues.push(due);
    trace.push(latency);
  }
  if (!ok) errors += 1;
  if (latencies.length === count) finish();
}

// An answer's end: the header block's length and the body's, once the header block is in.
function framing(buffer) {
  const end = buffer.indexOf(END);
  if (end < 0) return null;
  const header = buffer.toString("latin1", 0, end).toLowerCase();
  if (header.includes("\r\ntransfer-encoding:")) throw new Error("chunked answers are not read by this generator");
  const match = /\r\ncontent-length:\s*(\d+)/.exec(header);
  return { status: Number(header.slice(9, 12)), size: end + 4 + (match ? Number(match[1]) : 0) };
}

class Connection {
  constructor() {
    this.due = 0;
    this.busy = false;
    this.buffer = Buffer.alloc(0);
    this.ready = new Promise((resolve, reject) => {
      this.socket = net.connect({ host: "127.0.0.1", port, noDelay: true }, resolve);
      this.socket.once("error", reject);
    });
    this.socket.on("data", (chunk) => this.read(chunk));
  }

  send(i) {
    this.due = start + (i * 1000) / rate;
    this.busy = true;
    this.socket.write(requests ? requests[i] : one);
  }

  // Closed by the server (or failed): its request in flight is an error, and it is not used again.
  closed() {
    const index = free.indexOf(this);
    if (index >= 0) free.splice(index, 1);
    if (this.busy) {
      this.busy = false;
      answered(this.due, false);
    }
  }

  read(chunk) {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const frame = framing(this.buffer);
    if (frame === null || this.buffer.length < frame.size) return;
    this.buffer = this.buffer.subarray(frame.size);
    this.busy = false;
    answered(this.due, frame.status >= 200 && frame.status < 400);
    if (waiting.length) this.send(waiting.shift());
    else free.push(this);
  }
}

function tick() {
  const now = performance.now();
  while (next < count && start + (next * 1000) / rate <= now) {
    // The longest idle first, so that every connection stays in use (a server closes idle ones).
    const connection = free.shift();
    if (connection) connection.send(next);
    else waiting.push(next);
    next += 1;
  }
  if (next < count) setTimeout(tick, Math.max(0, start + (next * 1000) / rate - performance.now()));
}

const connections = Array.from({ length: config.connections }, () => new Connection());
await Promise.all(connections.map((connection) => connection.ready));
for (const connection of connections) {
  connection.socket.on("error", () => {});  // followed by "close"
  connection.socket.on("close", () => { if (!done) connection.closed(); });
  free.push(connection);
}
start = performance.now();
// Bounded: whatever is still unanswered 15 s after the last request fell due counts as an error.
setTimeout(finish, (count / rate) * 1000 + 15000).unref();
if (count === 0) finish();
else tick();
