// Starts a real `layer4 dev` on free ports with a temporary data dir, serving the
// built client, and stops it afterwards.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const web = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const root = resolve(web, "..");

/** The `layer4` binary: LAYER4_BIN, else the debug build in the cargo target dir. */
export function findBinary() {
  const candidates = [
    process.env.LAYER4_BIN,
    process.env.CARGO_TARGET_DIR && join(process.env.CARGO_TARGET_DIR, "debug", "layer4"),
    join(root, "target", "debug", "layer4"),
  ].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`no layer4 binary (tried ${candidates.join(", ")}); run cargo build or set LAYER4_BIN`);
  return found;
}

/** The environment without settings that would point the server elsewhere. */
function cleanEnv() {
  const env = { ...process.env, RUST_LOG: "warn" };
  for (const key of ["JWT_SECRET", "DATABASE_URL", "REDIS_URL", "DATA_DIR", "API_PORT", "WS_PORT", "WEB_DIR"]) delete env[key];
  return env;
}

export async function startServer() {
  const dataDir = mkdtempSync(join(tmpdir(), "layer4-e2e-"));
  const child = spawn(
    findBinary(),
    ["dev", "--api-port", "0", "--ws-port", "0", "--data-dir", dataDir, "--web-dir", join(web, "dist"), "--heartbeat-interval-ms", "5000",
     // History tests post many messages quickly.
     "--messages-per-window", "1000", "--frames-per-window", "100000",
     // A short replay buffer, so that a long absence is a `resync`.
     "--replay-buffer", "16"],
    { stdio: ["ignore", "pipe", "pipe"], env: cleanEnv() },
  );
  let log = "";
  const api = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`layer4 dev did not start:\n${log}`)), 30_000);
    const onData = (chunk) => {
      log += chunk.toString();
      const m = log.match(/API on (http:\/\/[0-9.:]+)/);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => fail(new Error(`layer4 dev exited with ${code}:\n${log}`)));
  });
  return {
    url: api,
    log: () => log,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((ok) => {
        const t = setTimeout(() => { child.kill("SIGKILL"); ok(); }, 10_000);
        child.on("exit", () => { clearTimeout(t); ok(); });
      });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
