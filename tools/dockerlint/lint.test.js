"use strict";

const test = require("node:test");
const assert = require("node:assert");
const fs = require("fs");
const path = require("path");
const { lint } = require("./lint");

const dockerfile = fs.readFileSync(path.join(__dirname, "..", "..", "Dockerfile"), "utf8");

// replaceLast edits the final (runtime) stage, which comes last.
function replaceLast(text, from, to) {
  const i = text.lastIndexOf(from);
  assert.ok(i >= 0, `fixture no longer contains ${JSON.stringify(from)}`);
  return text.slice(0, i) + to + text.slice(i + from.length);
}

function messages(content) {
  return lint(content).map((p) => p.msg).join("\n");
}

test("the repository's Dockerfile has no problems", () => {
  assert.deepStrictEqual(lint(dockerfile), []);
});

const broken = [
  ["runs as root", (d) => replaceLast(d, "USER 65532:65532", "USER root"), /runs as root/],
  ["no USER at all", (d) => replaceLast(d, "USER 65532:65532\n", ""), /no USER/],
  ["wrong port", (d) => replaceLast(d, "EXPOSE 9925", "EXPOSE 9100"), /EXPOSE 9925/],
  ["shell-form entrypoint", (d) => replaceLast(d, 'ENTRYPOINT ["/bin/vb365_exporter"]', "ENTRYPOINT /bin/vb365_exporter"), /ENTRYPOINT/],
  ["config elsewhere", (d) => replaceLast(d, "/etc/vb365_exporter/config.yml\"]", "/config.yml\"]"), /CMD/],
  ["cgo left on", (d) => d.replace("ENV CGO_ENABLED=0 ", "ENV "), /CGO_ENABLED=0/],
  ["fat runtime image", (d) => replaceLast(d, "FROM gcr.io/distroless/static-debian12:nonroot", "FROM debian:12"), /final stage runs on debian:12/],
  ["missing OCI label", (d) => d.replace(/\s*org\.opencontainers\.image\.source="[^"]*" \\/, ""), /LABEL org\.opencontainers\.image\.source/],
  ["lowercase instruction (dockerfile-utils)", (d) => d.replace("COPY . .", "copy . ."), /dockerfile-utils/],
  ["two entrypoints (dockerfile-utils)", (d) => replaceLast(d, 'ENTRYPOINT ["/bin/vb365_exporter"]', 'ENTRYPOINT ["/bin/sh"]\nENTRYPOINT ["/bin/vb365_exporter"]'), /dockerfile-utils/],
  ["single stage", () => 'FROM golang:1.26\nENV CGO_ENABLED=0\nUSER 1000\nEXPOSE 9925\nENTRYPOINT ["/bin/vb365_exporter"]\n', /multi-stage/],
];

for (const [name, mutate, want] of broken) {
  test(`flags: ${name}`, () => {
    assert.match(messages(mutate(dockerfile)), want);
  });
}

test("problems carry the line they are on", () => {
  const bad = replaceLast(dockerfile, "EXPOSE 9925", "EXPOSE 9100");
  const userLine = bad.split("\n").lastIndexOf("USER 65532:65532") + 1;
  const rootLine = replaceLast(bad, "USER 65532:65532", "USER 0");
  const p = lint(rootLine).find((x) => /runs as 0/.test(x.msg));
  assert.ok(p, "USER 0 not flagged");
  assert.strictEqual(p.line, userLine);
});
