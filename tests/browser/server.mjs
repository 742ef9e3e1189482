// Starts the real `standards` binary on a fresh data directory and a free
// port, for one test file, and stops it afterwards.
//
//   const server = await startServer();   // { url, origin, dataDir, cli(), stop() }
//   await server.cli(["user", "add", "ed@example.org", "--role", "editor", "--password-stdin"], "a password\n");
//   ...
//   await server.stop();
//
// The binary is $STANDARDS_BIN (default: the debug build of this checkout).
// On first start it loads the demo catalogue (188 entries), then prints
// `listening on http://ADDR` on stdout.

import { spawn, execFile } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const BIN = process.env.STANDARDS_BIN || join(here, "..", "..", "target", "debug", "standards");

const STARTUP_TIMEOUT_MS = 60_000;

export async function startServer() {
  if (!existsSync(BIN)) {
    throw new Error(`The standards binary is not at ${BIN}: run \`cargo build\` or set STANDARDS_BIN.`);
  }
  const dataDir = mkdtempSync(join(tmpdir(), "standards-browser-"));
  const child = spawn(BIN, ["serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  let stdout = "";
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => {
    // Keep the tail only: enough to explain a failure to start.
    stderr = (stderr + chunk).slice(-8000);
  });
  child.stdout.setEncoding("utf8");

  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const cleanUp = () => rmSync(dataDir, { recursive: true, force: true });
  // A test run that dies halfway still kills the server.
  const onExit = () => {
    try {
      child.kill("SIGKILL");
    } catch {}
    cleanUp();
  };
  process.once("exit", onExit);

  let url;
  try {
    url = await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no "listening on" line within ${STARTUP_TIMEOUT_MS} ms`)),
        STARTUP_TIMEOUT_MS,
      );
      child.stdout.on("data", (chunk) => {
        stdout += chunk;
        const m = stdout.match(/listening on (http:\/\/\S+)/);
        if (m) {
          clearTimeout(timer);
          resolve(m[1].replace(/\/$/, ""));
        }
      });
      exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`the server exited before listening (code ${code}, signal ${signal})`));
      });
      child.once("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  } catch (e) {
    onExit();
    process.removeListener("exit", onExit);
    throw new Error(`${BIN} serve failed: ${e.message}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
  }

  let stopped = false;
  return {
    url,
    origin: new URL(url).origin,
    dataDir,
    /** Runs a `standards` command on this server's data directory, with `input` on standard input; resolves to its standard output. */
    cli(args, input = "") {
      return new Promise((resolve, reject) => {
        const run = execFile(
          BIN,
          [...args, "--data-dir", dataDir],
          { env: { ...process.env, NO_COLOR: "1" }, timeout: 30_000 },
          (error, out, err) => {
            if (error) reject(new Error(`standards ${args.join(" ")} failed: ${error.message}\n${out}${err}`));
            else resolve(out);
          },
        );
        run.stdin.end(input);
      });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        let timer;
        const timeout = new Promise((resolve) => {
          timer = setTimeout(() => resolve("timeout"), 10_000);
        });
        const first = await Promise.race([exited, timeout]);
        clearTimeout(timer);
        if (first === "timeout") {
          child.kill("SIGKILL");
          await exited;
        }
      }
      process.removeListener("exit", onExit);
      cleanUp();
    },
  };
}
