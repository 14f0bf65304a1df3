// A Session Manager client we did not write (npm ssm-session: its token message, size message,
// input framing, acknowledgements and decoding) over node's ws, driven by hastack-local's tests.
//
// stdin, one JSON line: {"url": StreamUrl, "token": TokenValue, "input": text to type once the
// shell has printed something, "until": a regex the output must match (then "matched" is
// reported)}. stdout: JSON lines, one per event: {"event":"open"}, {"event":"first_output",
// "ms": since the line was read}, {"event":"matched","output":…}, {"event":"channel_closed",
// "payload":…}, {"event":"closed","output":…}, {"event":"error","message":…}.
"use strict";
const { ssm } = require("ssm-session");
const WebSocket = require("ws");
const readline = require("readline");

const say = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const text = (bytes) => Buffer.from(bytes).toString("utf8");

readline.createInterface({ input: process.stdin }).once("line", (line) => {
  const job = JSON.parse(line);
  const t0 = Date.now();
  const until = job.until ? new RegExp(job.until) : null;
  let output = "";
  let typed = false;
  let matched = false;
  const socket = new WebSocket(job.url);
  socket.binaryType = "arraybuffer";
  socket.on("open", () => {
    say({ event: "open" });
    ssm.init(socket, { token: job.token, termOptions: { cols: 120, rows: 40 } });
  });
  socket.on("message", (data, isBinary) => {
    if (!isBinary) return;
    const m = ssm.decode(data);
    if (m.messageType === "channel_closed") {
      say({ event: "channel_closed", payload: JSON.parse(text(m.payload)) });
      return;
    }
    if (m.messageType !== "output_stream_data") return;
    ssm.sendACK(socket, m);
    if (m.payloadType !== 1) return;
    if (output === "") say({ event: "first_output", ms: Date.now() - t0 });
    output += text(m.payload);
    if (!typed && job.input) {
      typed = true;
      ssm.sendText(socket, job.input);
    }
    if (until && !matched && until.test(output)) {
      matched = true;
      say({ event: "matched", output });
    }
  });
  socket.on("close", () => {
    say({ event: "closed", output });
    process.exit(0);
  });
  socket.on("error", (e) => {
    say({ event: "error", message: String(e && e.message) });
    process.exit(1);
  });
});
