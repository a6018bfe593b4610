// The CLI's way to a running embedded server (src/control-socket.ts): when DATA_DIR holds a
// live control socket, the command is sent there and the server runs it, so the CLI neither
// opens the database the server holds nor loads the core. Light on purpose: node built-ins
// only, so such a command answers in well under a second.
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { UsageError } from '#src/cli/args.ts';

const CONTROL_SOCKET_NAME = 'control.sock';

async function readAll(input: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of input) text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
  return text;
}

/**
 * The argv and standard input to send: what the command reads from stdin (a password, an
 * import) is read here, and a `--file PATH` is read here too (the server's working directory
 * is not the caller's) and sent as stdin.
 */
async function request(argv: string[], stdin: NodeJS.ReadableStream): Promise<{ argv: string[]; stdin?: string }> {
  const sent = [...argv];
  for (let index = 0; index < sent.length; index++) {
    const arg = sent[index]!;
    const inline = arg.startsWith('--file=') ? arg.slice('--file='.length) : undefined;
    const file = inline ?? (arg === '--file' ? sent[index + 1] : undefined);
    if (file === undefined || file === '-') continue;
    let content: string;
    try {
      content = readFileSync(file, 'utf8');
    } catch (error) {
      throw new Error(`cannot read ${file}: ${(error as Error).message}`);
    }
    if (inline !== undefined) sent[index] = '--file=-';
    else sent[index + 1] = '-';
    return { argv: sent, stdin: content };
  }
  const readsStdin = sent.includes('--password-stdin') || sent.some((arg, index) => (arg === '--file' && sent[index + 1] === '-') || arg === '--file=-');
  return { argv: sent, stdin: readsStdin ? await readAll(stdin) : undefined };
}

export type RemoteOutcome = { ran: true; result: unknown } | { ran: false };

/** Runs argv through the server when one is listening in DATA_DIR; `{ ran: false }` when none is. */
export async function runThroughServer(dataDir: string, argv: string[], stdin: NodeJS.ReadableStream = process.stdin): Promise<RemoteOutcome> {
  const socketPath = path.resolve(dataDir, CONTROL_SOCKET_NAME);
  if (!existsSync(socketPath)) return { ran: false };
  const socket = connect(socketPath);
  const connected = await new Promise<boolean>((resolve, reject) => {
    socket.once('connect', () => resolve(true));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      // A socket file without a server behind it: a server that died. The database is free.
      if (error.code === 'ECONNREFUSED' || error.code === 'ENOENT') resolve(false);
      else reject(new Error(`cannot reach the running server at ${socketPath}: ${error.message}`));
    });
  });
  if (!connected) return { ran: false };
  socket.setEncoding('utf8');
  let body = '';
  const reply = new Promise<string>((resolve, reject) => {
    socket.on('data', (chunk: string) => (body += chunk));
    socket.once('end', () => resolve(body));
    socket.once('error', (error) => reject(new Error(`the running server closed the connection: ${error.message}`)));
  });
  socket.write(`${JSON.stringify(await request(argv, stdin))}\n`);
  const line = await reply;
  let answer: { result?: unknown; error?: string; usage?: boolean };
  try {
    answer = JSON.parse(line) as typeof answer;
  } catch {
    throw new Error('the running server gave no answer (it may be shutting down)');
  }
  if (answer.error !== undefined) throw answer.usage ? new UsageError(answer.error) : new Error(answer.error);
  return { ran: true, result: answer.result };
}
