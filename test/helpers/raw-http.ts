// HTTP/1.1 over a bare socket, for requests fetch refuses to send: raw bytes in the request
// target and header values, bodies that disagree with their content type, invalid UTF-8.
// It also tells a dropped connection (reset, or closed before a status line) from an answer.
import { connect } from 'node:net';

export interface RawRequest {
  method: string;
  /** The request target exactly as sent (path and query), bytes included. */
  target: string | Buffer;
  headers: Array<[string, string | Buffer]>;
  body?: Buffer;
}

export interface RawResponse {
  status: number;
  headers: string;
  /** The body as text (chunk-size lines of a chunked body left in: only searched, never parsed). */
  body: string;
}

export class DroppedConnection extends Error {
  override name = 'DroppedConnection';
}

export function rawRequest(origin: string, request: RawRequest, timeoutMs = 30_000): Promise<RawResponse> {
  const { hostname, port } = new URL(origin);
  const body = request.body ?? Buffer.alloc(0);
  const head: Buffer[] = [Buffer.from(`${request.method} `), Buffer.from(request.target), Buffer.from(` HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n`)];
  for (const [name, value] of request.headers) head.push(Buffer.from(`${name}: `), Buffer.from(value), Buffer.from('\r\n'));
  head.push(Buffer.from(`Content-Length: ${body.length}\r\n\r\n`));
  const payload = Buffer.concat([...head, body]);

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname);
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      // An answer that arrived counts even if the server closed early (a refused huge body).
      if (status) {
        const split = text.indexOf('\r\n\r\n');
        const raw = Buffer.concat(chunks);
        resolve({ status: Number(status[1]), headers: text.slice(0, split), body: split < 0 ? '' : raw.subarray(Buffer.byteLength(text.slice(0, split + 4), 'latin1')).toString('utf8') });
      } else {
        reject(new DroppedConnection(`no response (${error?.message ?? 'closed'}) to ${request.method} ${String(request.target).slice(0, 80)}`));
      }
    };
    socket.setTimeout(timeoutMs, () => finish(new Error('timed out')));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    socket.on('error', (error) => finish(error));
    socket.on('connect', () => socket.write(payload));
  });
}
