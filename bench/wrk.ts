// wrk (Debian package `wrk`) as an outside load generator: a C program that costs a few
// microseconds per request, where the in-process fetch generator costs about as much CPU
// as the request it sends. It measures what a server process can answer when the clients
// are elsewhere, which is what an absolute goal (requests per second) is about. Optional:
// without it the bench reports the in-process figures only.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function wrkAvailable(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    // wrk --version prints its banner and exits 1; only a missing binary is ENOENT.
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

export interface WrkRun {
  rate: number;
  requests: number;
  seconds: number;
  /** Non-2xx/3xx answers and socket errors: a figure with any is refused. */
  errors: number;
  latencyMs: { p50: number; p90: number; p99: number };
}

const lua = (value: string) => JSON.stringify(value);

/** One POST (or GET) repeated by `connections` keep-alive connections for `durationMs`. */
export async function runWrk(options: { url: string; method: 'GET' | 'POST'; headers: Record<string, string>; body?: string; connections: number; durationMs: number }): Promise<WrkRun> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keyhold-bench-wrk-'));
  try {
    const script = path.join(dir, 'request.lua');
    writeFileSync(
      script,
      [
        `wrk.method = ${lua(options.method)}`,
        ...(options.body !== undefined ? [`wrk.body = ${lua(options.body)}`] : []),
        ...Object.entries(options.headers).map(([name, value]) => `wrk.headers[${lua(name)}] = ${lua(value)}`),
        // Latency percentiles in a form that is easy to read back.
        'done = function(summary, latency, requests)',
        '  io.write(string.format("KEYHOLD %d %d %d %d %d %d\\n", summary.requests, summary.duration, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99)))',
        'end',
      ].join('\n'),
    );
    const seconds = Math.max(1, Math.round(options.durationMs / 1000));
    const output = await new Promise<string>((resolve, reject) => {
      execFile('wrk', ['-t1', `-c${options.connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', script, options.url], { timeout: (seconds + 30) * 1000 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`wrk failed: ${error.message}\n${stderr}`));
        else resolve(stdout);
      });
    });
    const summary = /^KEYHOLD (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)/m.exec(output);
    if (!summary) throw new Error(`wrk printed no summary:\n${output}`);
    const [requests, durationUs, errors, p50, p90, p99] = summary.slice(1).map(Number) as [number, number, number, number, number, number];
    return { rate: requests / (durationUs / 1e6), requests, seconds: durationUs / 1e6, errors, latencyMs: { p50: p50 / 1000, p90: p90 / 1000, p99: p99 / 1000 } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
