// The embedded database belongs to the server's process while it runs, so the `keyhold`
// CLI cannot open it beside the server. Instead the server listens on a Unix socket in
// DATA_DIR (mode 0600 in the 0700 directory: only the server's own user reaches it, as with
// the database files themselves) and runs CLI commands for it, against its own core, with
// its own rules. One request per connection: a JSON line `{ argv, stdin? }` in, a JSON line
// `{ result }` or `{ error, usage }` out. Postgres deployments do not need it (every process
// opens Postgres itself) and do not get it.
import { chmodSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describeError, UsageError } from '#src/cli/args.ts';
import type { Core } from '#src/core.ts';
import { PRIVATE_FILE_MODE } from '#src/stores/data-dir.ts';

export const CONTROL_SOCKET_NAME = 'control.sock';
/** A request line larger than this (an import file is the big case) is refused. */
const MAX_REQUEST_BYTES = 64 * 1024 * 1024;
// sockaddr_un holds 108 bytes with the terminating NUL.
const MAX_SOCKET_PATH = 107;

export function controlSocketPath(dataDir: string): string {
  return path.resolve(dataDir, CONTROL_SOCKET_NAME);
}

interface ControlRequest {
  argv: string[];
  stdin?: string;
}

function parseRequest(line: string): ControlRequest {
  const request = JSON.parse(line) as Partial<ControlRequest>;
  if (!Array.isArray(request.argv) || !request.argv.every((arg) => typeof arg === 'string')) throw new UsageError('malformed request');
  if (request.stdin !== undefined && typeof request.stdin !== 'string') throw new UsageError('malformed request');
  return { argv: request.argv, stdin: request.stdin };
}

async function answer(core: Core, request: ControlRequest): Promise<unknown> {
  // Loaded on the first command: a server nobody administers never pays for the CLI's modules.
  const { planCommand } = await import('#src/cli/commands.ts');
  const plan = planCommand(request.argv, { stdin: Readable.from([request.stdin ?? '']) });
  return plan.needs === 'database' ? plan.run(core.db) : plan.run(core);
}

function serve(core: Core, socket: Socket): void {
  let buffered = '';
  let handled = false;
  const reply = (body: unknown) => socket.end(`${JSON.stringify(body)}\n`);
  socket.setEncoding('utf8');
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: string) => {
    if (handled) return;
    buffered += chunk;
    if (buffered.length > MAX_REQUEST_BYTES) {
      handled = true;
      reply({ error: 'request too large', usage: true });
      return;
    }
    const end = buffered.indexOf('\n');
    if (end < 0) return;
    handled = true;
    void (async () => {
      try {
        const request = parseRequest(buffered.slice(0, end));
        const result = await answer(core, request);
        core.logger.info({ command: request.argv.slice(0, 2).join(' ') }, 'command run through the control socket');
        reply({ result: result ?? null });
      } catch (error) {
        reply({ error: describeError(error), usage: error instanceof UsageError || error instanceof SyntaxError });
      }
    })();
  });
}

export interface ControlSocket {
  path: string;
  close(): Promise<void>;
}

/** Listens on DATA_DIR/control.sock; undefined (with a warning) when the path is too long for a socket. */
export async function openControlSocket(core: Core): Promise<ControlSocket | undefined> {
  const socketPath = controlSocketPath(core.config.DATA_DIR);
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    core.logger.warn({ path: socketPath }, 'DATA_DIR is too long a path for the control socket: the keyhold CLI cannot run beside this server');
    return undefined;
  }
  // This process holds the embedded database's lock, so a socket file left here is a dead
  // server's.
  rmSync(socketPath, { force: true });
  const server: Server = createServer((socket) => serve(core, socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  chmodSync(socketPath, PRIVATE_FILE_MODE);
  return {
    path: socketPath,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        rmSync(socketPath, { force: true });
      }),
  };
}
