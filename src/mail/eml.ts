// Reads the .eml files the mail worker writes in development (nodemailer's own MIME output):
// the headers a list needs and the text and HTML parts. Enough MIME for what nodemailer
// writes (multipart, quoted-printable, base64, encoded words), not a general mail parser.

export interface EmlMessage {
  subject: string;
  to: string;
  date?: Date;
  text?: string;
  html?: string;
}

interface Part {
  headers: Map<string, string>;
  body: string;
}

function splitPart(raw: string): Part {
  const normalized = raw.replace(/\r\n/g, '\n');
  const end = normalized.indexOf('\n\n');
  const head = end === -1 ? normalized : normalized.slice(0, end);
  const body = end === -1 ? '' : normalized.slice(end + 2);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function bytesOfQuotedPrintable(value: string, underscoreIsSpace: boolean): Buffer {
  const bytes: number[] = [];
  const source = value.replace(/=\n/g, '');
  for (let index = 0; index < source.length; index++) {
    const character = source[index]!;
    if (character === '=' && /^[0-9A-Fa-f]{2}$/.test(source.slice(index + 1, index + 3))) {
      bytes.push(Number.parseInt(source.slice(index + 1, index + 3), 16));
      index += 2;
    } else if (underscoreIsSpace && character === '_') {
      bytes.push(0x20);
    } else {
      bytes.push(...Buffer.from(character, 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

/** A header value with RFC 2047 encoded words decoded (UTF-8 and ASCII charsets). */
export function decodeHeader(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[QqBb]\?[^?]*\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_word, _charset: string, encoding: string, data: string) =>
      (encoding.toUpperCase() === 'B' ? Buffer.from(data, 'base64') : bytesOfQuotedPrintable(data, true)).toString('utf8'),
    );
}

function decodeBody(part: Part): string {
  const encoding = (part.headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  if (encoding === 'base64') return Buffer.from(part.body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') return bytesOfQuotedPrintable(part.body, false).toString('utf8');
  return part.body;
}

function collectParts(part: Part, found: { text?: string; html?: string }, depth = 0): void {
  const type = part.headers.get('content-type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary && depth < 5) {
    const sections = part.body.split(`--${boundary}`).slice(1);
    for (const section of sections) {
      if (section.startsWith('--')) break;
      collectParts(splitPart(section.replace(/^\n/, '')), found, depth + 1);
    }
    return;
  }
  if (/^text\/html/i.test(type)) found.html ??= decodeBody(part);
  else if (/^text\/plain/i.test(type)) found.text ??= decodeBody(part).replace(/\n$/, '');
}

export function parseEml(raw: Buffer | string): EmlMessage {
  const message = splitPart(raw.toString());
  const found: { text?: string; html?: string } = {};
  collectParts(message, found);
  const date = message.headers.get('date');
  return {
    subject: decodeHeader(message.headers.get('subject') ?? ''),
    to: decodeHeader(message.headers.get('to') ?? ''),
    ...(date && !Number.isNaN(Date.parse(date)) ? { date: new Date(date) } : {}),
    ...found,
  };
}
