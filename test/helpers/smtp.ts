// A real SMTP server in the test process (smtp-server, messages parsed with mailparser) on a
// random loopback port, that can be told to refuse or to answer slowly.
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface SmtpServer {
  /** smtp://127.0.0.1:<port>, for SMTP_URL. */
  url: string;
  /** Every message accepted so far, in arrival order. */
  received: ParsedMail[];
  /** When set, every message is refused with a 550 after its data arrived. */
  rejecting: boolean;
  /** Milliseconds the server waits before answering a message's data. */
  delayMs: number;
  /** How many messages started arriving (DATA received), accepted or not. */
  started: number;
  waitForReceived(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** `onMessage` sees each accepted message as it arrives. */
export async function startSmtpServer(options: { onMessage?: (mail: ParsedMail) => void } = {}): Promise<SmtpServer> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      state.started += 1;
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        void (async () => {
          if (state.delayMs) await sleep(state.delayMs);
          if (state.rejecting) return callback(Object.assign(new Error('mailbox unavailable'), { responseCode: 550 }));
          const mail = await simpleParser(Buffer.concat(chunks));
          state.received.push(mail);
          options.onMessage?.(mail);
          callback();
        })().catch((error: Error) => callback(error));
      });
    },
  });
  const state: SmtpServer = {
    url: '',
    received: [],
    rejecting: false,
    delayMs: 0,
    started: 0,
    async waitForReceived(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (state.received.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} messages, got ${state.received.length}`);
        await sleep(25);
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  return state;
}
