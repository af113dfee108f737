import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../core/paths.ts';

/** Running the repo's CLIs in tests the way npm scripts do (node + tsx), with no TTY. */

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The tsx loader, resolved once, so CLIs start with plain `node --import`. */
const TSX = path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs');

/** Environment for a CLI child: the parent's minus anything that could leak in from the developer's shell. */
export function cliEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) if (process.env[k]) base[k] = process.env[k];
  return { ...base, NO_COLOR: '1', ...extra };
}

export function runCli(script: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', TSX, path.join(REPO_ROOT, script), ...args], { env: cliEnv(env), cwd: REPO_ROOT, timeout: timeoutMs, maxBuffer: 32 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

export function spawnCli(script: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess & { output: { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, ['--import', TSX, path.join(REPO_ROOT, script), ...args], { env: cliEnv(env), cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (output.stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output.stderr += d));
  return Object.assign(child, { output });
}

export function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = async () => {
      if (await predicate()) return resolve();
      if (Date.now() > until) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 25);
    };
    void tick();
  });
}

export function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve({ code: child.exitCode, signal: child.signalCode });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}


/** A CLI run as the unprivileged user nobody (65534), so that file permissions apply as they do for an operator. */
export function runCliAsNobody(script: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', TSX, path.join(REPO_ROOT, script), ...args], { env: cliEnv(env), cwd: REPO_ROOT, timeout: timeoutMs, maxBuffer: 32 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

/**
 * A CLI on a real terminal (a pseudo-terminal from Python's pty module): once its output
 * matches `waitFor`, `keys` are typed (`\u0003` is Ctrl-C). Returns everything the terminal
 * showed and the exit code.
 */
export function runCliOnTty(script: string, args: string[], env: NodeJS.ProcessEnv, waitFor: RegExp, keys: string, timeoutMs = 60_000): Promise<{ code: number | null; output: string }> {
  const driver = `
import json, os, pty, re, select, sys, time
argv, pattern, keys, limit = json.loads(sys.argv[1]), re.compile(sys.argv[2].encode()), sys.argv[3].encode(), float(sys.argv[4])
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
out, sent, deadline = b'', False, time.time() + limit
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.05)
    if r:
        try:
            d = os.read(fd, 65536)
        except OSError:
            d = b''
        if not d:
            break
        out += d
    if not sent and pattern.search(out):
        os.write(fd, keys)
        sent = True
else:
    os.kill(pid, 9)
_, status = os.waitpid(pid, 0)
print(json.dumps({'code': os.waitstatus_to_exitcode(status), 'output': out.decode('utf8', 'replace')}))
`;
  const argv = [process.execPath, '--import', TSX, path.join(REPO_ROOT, script), ...args];
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', driver, JSON.stringify(argv), waitFor.source, keys, String(timeoutMs / 1000)], { env: cliEnv(env), cwd: REPO_ROOT, timeout: timeoutMs + 10_000 }, (err, stdout) => {
      if (err) return reject(err);
      resolve(JSON.parse(stdout) as { code: number | null; output: string });
    });
  });
}
