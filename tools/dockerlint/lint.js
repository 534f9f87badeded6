// Lints a Dockerfile: every dockerfile-utils diagnostic (warnings promoted
// to errors) plus the image policy the README promises users: a static
// binary (CGO_ENABLED=0), a distroless or Prometheus busybox runtime, a
// non-root user, port 9925, the exporter as ENTRYPOINT with the config at
// /etc/vb365_exporter/config.yml, and OCI labels. Exits 1 on any problem.
// No registry is reachable where CI runs, so the image is never built
// there; this plus the static-binary check (make crossbuild-check) is the
// proof that the Dockerfile works.
"use strict";

const fs = require("fs");
const { validate, ValidationSeverity } = require("dockerfile-utils");
const { DockerfileParser } = require("dockerfile-ast");

const ALL_ERRORS = {
  deprecatedMaintainer: ValidationSeverity.ERROR,
  directiveCasing: ValidationSeverity.ERROR,
  emptyContinuationLine: ValidationSeverity.ERROR,
  instructionCasing: ValidationSeverity.ERROR,
  instructionCmdMultiple: ValidationSeverity.ERROR,
  instructionEntrypointMultiple: ValidationSeverity.ERROR,
  instructionHealthcheckMultiple: ValidationSeverity.ERROR,
  instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
  instructionWorkdirRelative: ValidationSeverity.ERROR,
};

const RUNTIME_IMAGES = [
  /^gcr\.io\/distroless\/static(-debian\d+)?:nonroot$/,
  /^quay\.io\/prometheus\/busybox(-linux-[a-z0-9]+)?:/,
];
const REQUIRED_LABELS = [
  "org.opencontainers.image.title",
  "org.opencontainers.image.source",
  "org.opencontainers.image.licenses",
  "org.opencontainers.image.version",
  "org.opencontainers.image.revision",
];

// stages splits the instructions at each FROM.
function stages(dockerfile) {
  const out = [];
  for (const ins of dockerfile.getInstructions()) {
    if (ins.getKeyword() === "FROM") {
      out.push({ from: ins, instructions: [] });
    } else if (out.length > 0) {
      out[out.length - 1].instructions.push(ins);
    }
  }
  return out;
}

function lineOf(ins) {
  return ins.getRange().start.line + 1;
}

function jsonArgs(ins) {
  if (typeof ins.getJSONStrings !== "function" || ins.getJSONStrings().length === 0) {
    return null;
  }
  return ins.getJSONStrings().map((s) => s.getJSONValue());
}

function policy(content) {
  const problems = [];
  const add = (line, msg) => problems.push({ line, msg });
  const dockerfile = DockerfileParser.parse(content);
  const all = stages(dockerfile);
  if (all.length < 2) {
    add(1, "want a multi-stage build: a Go builder and a minimal runtime");
    return problems;
  }
  const final = all[all.length - 1];
  const byKeyword = (stage, kw) => stage.instructions.filter((i) => i.getKeyword() === kw);

  const image = final.from.getImage() || "";
  if (!RUNTIME_IMAGES.some((re) => re.test(image))) {
    add(lineOf(final.from), `final stage runs on ${image}; want gcr.io/distroless/static-debian12:nonroot or quay.io/prometheus/busybox`);
  }

  const cgoOff = all.slice(0, -1).some((s) =>
    s.instructions.some((i) =>
      (i.getKeyword() === "ENV" && i.getProperties().some((p) => p.getName() === "CGO_ENABLED" && p.getValue() === "0")) ||
      (i.getKeyword() === "RUN" && /\bCGO_ENABLED=0\b/.test(i.getArgumentsContent() || ""))));
  if (!cgoOff) {
    add(lineOf(all[0].from), "no builder stage sets CGO_ENABLED=0; the runtime image needs a static binary");
  }

  const users = byKeyword(final, "USER");
  if (users.length === 0) {
    add(lineOf(final.from), "final stage has no USER; it would run as root");
  } else {
    const user = (users[users.length - 1].getArgumentsContent() || "").split(":")[0];
    if (user === "root" || user === "0" || user === "") {
      add(lineOf(users[users.length - 1]), `final stage runs as ${user || "nobody named"}; want a non-root user`);
    }
  }

  const exposed = byKeyword(final, "EXPOSE").flatMap((i) => i.getArguments().map((a) => a.getValue().split("/")[0]));
  if (!exposed.includes("9925")) {
    add(lineOf(final.from), "final stage does not EXPOSE 9925, the exporter's default port");
  }

  const entry = byKeyword(final, "ENTRYPOINT");
  const entryArgs = entry.length ? jsonArgs(entry[entry.length - 1]) : null;
  if (!entryArgs || entryArgs.length !== 1 || entryArgs[0] !== "/bin/vb365_exporter") {
    add(entry.length ? lineOf(entry[entry.length - 1]) : lineOf(final.from),
      'want ENTRYPOINT ["/bin/vb365_exporter"] (exec form, so the exporter gets SIGTERM)');
  }
  const cmd = byKeyword(final, "CMD");
  const cmdArgs = cmd.length ? jsonArgs(cmd[cmd.length - 1]) : null;
  if (!cmdArgs || !cmdArgs.includes("--config.file=/etc/vb365_exporter/config.yml")) {
    add(cmd.length ? lineOf(cmd[cmd.length - 1]) : lineOf(final.from),
      'want CMD ["--config.file=/etc/vb365_exporter/config.yml"] in exec form');
  }

  const labels = new Set(byKeyword(final, "LABEL").flatMap((i) => i.getProperties().map((p) => p.getName())));
  for (const l of REQUIRED_LABELS) {
    if (!labels.has(l)) {
      add(lineOf(final.from), `final stage lacks LABEL ${l}`);
    }
  }
  return problems;
}

// lint returns every problem in content as {line, msg}, sorted by line.
function lint(content) {
  const problems = validate(content, ALL_ERRORS).map((d) => ({
    line: d.range.start.line + 1,
    msg: `${d.message} (dockerfile-utils ${d.code})`,
  }));
  return problems.concat(policy(content)).sort((a, b) => a.line - b.line);
}

function main(argv) {
  const files = argv.length ? argv : ["Dockerfile"];
  let failed = false;
  for (const file of files) {
    const problems = lint(fs.readFileSync(file, "utf8"));
    for (const p of problems) {
      console.error(`${file}:${p.line}: ${p.msg}`);
    }
    if (problems.length) {
      failed = true;
    } else {
      console.log(`${file}: ok`);
    }
  }
  return failed ? 1 : 0;
}

module.exports = { lint };

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
