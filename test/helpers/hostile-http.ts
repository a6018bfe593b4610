// fast-check arbitraries for hostile HTTP requests: random and adversarial parameters,
// bodies (form, JSON, multipart, malformed, raw bytes), content types that lie, junk in
// headers (credentials, cookies, encodings, huge values, bytes outside ASCII), and
// percent-encoding junk in paths and queries. Real values (tokens, ids, CSRF tokens,
// cookies) are mixed in so that requests also get past the guards to the code behind them.
import fc from 'fast-check';
import type { RawRequest, RawResponse } from './raw-http.ts';

export interface FuzzTarget {
  methods: string[];
  /** Route pattern, `:name` segments filled from real values or junk. */
  path: string;
}

/** What a hostile client might hold or have stolen: real values to mix in. */
export interface FuzzContext {
  /** Real values per path parameter name (uid, id, …). */
  pathValues: Record<string, string[]>;
  /** Real Authorization header values (Basic client credentials, Bearer tokens). */
  authorizations: string[];
  /** Real Cookie header values (sessions, interaction cookies). */
  cookies: string[];
  /** Real parameter values: CSRF tokens, refresh tokens, codes, ids, e-mail addresses. */
  values: string[];
  /** Parameter names worth setting for this kind of route. */
  names: string[];
}

// Values that broke parsers and validators somewhere, once.
const SPECIAL_VALUES = [
  '', ' ', '%', '%%', '%ZZ', '%C3%28', '%ED%A0%80', '%F0%9F%92', '%00', '\u0000', '\u0001', '\r\n', '\t', '\u2028', '\uFEFF',
  '\uD800', '\uDFFF', '😀', 'é', 'ß', 'İ', '../../etc/passwd', '..%2F..%2F', '<script>alert(1)</script>', "' OR 1=1--", '"',
  '{"a":1}', '[1,2]', 'null', 'undefined', 'true', 'false', '0', '-1', '1e309', 'NaN', 'Infinity', '9007199254740993',
  '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'a@b', 'a@b.c', '@', 'user@example.test',
  'http://127.0.0.1:1/', 'javascript:alert(1)', 'data:text/html,x', 'https://app.example.test/callback', 'openid',
  'openid offline_access', 'code', 'none', 'S256', 'plain', 'consent login', 'refresh_token', 'authorization_code',
  'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
  'a.b.c', 'AAAA-BBBB', 'x'.repeat(300), '1'.repeat(64),
];
const SPECIAL_NAMES = ['__proto__', 'constructor', 'a[b]', 'a[]', 'a.b', '', '%', '%00', 'é', 'x'.repeat(200)];

const CONTENT_TYPES = [
  'application/x-www-form-urlencoded', 'application/json', 'multipart/form-data', 'multipart/form-data; boundary=',
  'text/plain', 'text/html', 'application/xml', 'application/jwt', 'application/octet-stream', '', ';', '*/*',
  'application/json; charset=utf-16', 'application/json; charset=bogus', 'application/x-www-form-urlencoded; charset=iso-8859-1',
  'application/x-www-form-urlencoded; charset=nope', 'application/jose', 'application/merge-patch+json', 'application/json\u0000',
];

const junkString = (real: string[]) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
    { weight: 4, arbitrary: fc.constantFrom(...SPECIAL_VALUES) },
    { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 120_000 }).map((length) => 'A'.repeat(length)) },
    { weight: real.length ? 4 : 0, arbitrary: real.length ? fc.constantFrom(...real) : fc.constant('') },
  );

/** Encodes one value for a query or form: properly, raw, or with percent-encoding junk. */
const encodedValue = (value: fc.Arbitrary<string>) =>
  fc.tuple(value, fc.constantFrom('proper', 'proper', 'proper', 'raw', 'junk', 'double')).map(([text, how]) => {
    if (how === 'raw') return text;
    if (how === 'junk') return `${safeEncode(text)}%${['', 'Z', 'E0%A4%A', 'FF%FE', 'C0%80', '2', 'u0041'][text.length % 7]}`;
    if (how === 'double') return safeEncode(safeEncode(text));
    return safeEncode(text);
  });

/** encodeURIComponent, except that lone surrogates are escaped as their (invalid) UTF-8 bytes. */
function safeEncode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return [...text].map((char) => (/[\uD800-\uDFFF]/.test(char) ? `%ED%${(0xa0 + ((char.charCodeAt(0) >> 6) & 0x1f)).toString(16).toUpperCase()}%80` : encodeURIComponent(char))).join('');
  }
}

const pairs = (context: FuzzContext) => {
  const name = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...context.names) },
    { weight: 1, arbitrary: fc.constantFrom(...SPECIAL_NAMES) },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  );
  const shaped = fc.tuple(name, fc.constantFrom('', '', '', '', '[]', '[x]', '[0][y]')).map(([base, suffix]) => base + suffix);
  return fc.array(fc.tuple(shaped, junkString(context.values)), { maxLength: 12 });
};

const jsonValue = (context: FuzzContext): fc.Arbitrary<unknown> =>
  fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      junkString(context.values),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(fc.oneof(fc.constantFrom(...context.names), fc.string({ maxLength: 8 })), tie('value'), { maxKeys: 4 }),
    ),
  })).value;

const MALFORMED_JSON = ['{', '{"a":', '[', '{"a":1,}', "{'a':1}", 'nul', '"unterminated', '{"a":1}{"b":2}', '\uFEFF{"a":1}', `${'['.repeat(20_000)}${']'.repeat(20_000)}`, `{"a":${'1'.repeat(5000)}}`, '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}'];

function multipart(fields: Array<[string, string]>, boundary: string, broken: boolean): Buffer {
  const parts = fields.map(([name, value], index) =>
    index % 3 === 2
      ? `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${value.slice(0, 20)}"\r\nContent-Type: application/octet-stream\r\n\r\n${value}\r\n`
      : `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  return Buffer.from(parts.join('') + (broken ? `--${boundary}` : `--${boundary}--\r\n`));
}

type Body = { type: string; bytes: Buffer };

const bodies = (context: FuzzContext): fc.Arbitrary<Body | undefined> =>
  fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 5, arbitrary: pairs(context).map((fields) => ({ type: 'application/x-www-form-urlencoded', bytes: Buffer.from(fields.map(([k, v]) => `${safeEncode(k)}=${safeEncode(v)}`).join('&')) })) },
    { weight: 2, arbitrary: fc.tuple(pairs(context), fc.boolean()).map(([fields, rawJunk]) => ({ type: 'application/x-www-form-urlencoded', bytes: Buffer.from(fields.map(([k, v]) => (rawJunk ? `${k}=${v}` : `${safeEncode(k)}=${safeEncode(v)}%`)).join('&')) })) },
    { weight: 4, arbitrary: jsonValue(context).map((value) => ({ type: 'application/json', bytes: Buffer.from(JSON.stringify(value) ?? 'null') })) },
    { weight: 1, arbitrary: fc.constantFrom(...MALFORMED_JSON).map((text) => ({ type: 'application/json', bytes: Buffer.from(text) })) },
    { weight: 2, arbitrary: fc.tuple(pairs(context), fc.boolean()).map(([fields, broken]) => ({ type: 'multipart/form-data; boundary=XyZ', bytes: multipart(fields, 'XyZ', broken) })) },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 3000 }).map((bytes) => ({ type: 'application/octet-stream', bytes: Buffer.from(bytes) })) },
    // Invalid UTF-8 in an otherwise well-formed form body.
    { weight: 1, arbitrary: fc.constantFrom('email=\xff\xfe&password=\xc3\x28', 'name=\xed\xa0\x80', 'csrf=\xc0\xaf&code=\xf8\x88\x80\x80\x80').map((text) => ({ type: 'application/x-www-form-urlencoded', bytes: Buffer.from(text, 'latin1') })) },
  );

const headerArbitrary = (context: FuzzContext): fc.Arbitrary<Array<[string, string | Buffer]>> => {
  const junk = junkString([]).map((value) => value.replace(/[\r\n\0]/g, ''));
  const authorization = fc.oneof(
    { weight: context.authorizations.length ? 5 : 0, arbitrary: context.authorizations.length ? fc.constantFrom(...context.authorizations) : fc.constant('') },
    { weight: 1, arbitrary: junk.map((value) => `Basic ${Buffer.from(value).toString('base64')}`) },
    { weight: 1, arbitrary: fc.constantFrom('Basic', 'Basic !!!', 'Basic Og==', 'Basic ' + Buffer.from('a:b:c').toString('base64'), 'Basic ' + Buffer.from('%ZZ:%00').toString('base64'), 'Bearer', 'Bearer  ', 'DPoP x', 'Negotiate abc', 'bearer a.b.c') },
    { weight: 1, arbitrary: junk.map((value) => `Bearer ${value}`) },
  );
  const cookie = fc.oneof(
    { weight: context.cookies.length ? 4 : 0, arbitrary: context.cookies.length ? fc.constantFrom(...context.cookies) : fc.constant('') },
    { weight: 1, arbitrary: junk.map((value) => `_session=${value}; _interaction=${value}; keyhold=${value}`) },
    { weight: 1, arbitrary: fc.constantFrom('=', ';;;', '_session.sig=x', 'a=%ZZ', `x=${'y'.repeat(3000)}`) },
  );
  const header = fc.oneof(
    authorization.map((value): [string, string | Buffer] => ['Authorization', value]),
    cookie.map((value): [string, string | Buffer] => ['Cookie', value]),
    fc.constantFrom('application/json', 'text/html', '*/*', 'junk', '', 'text/html;q=0, application/json;q=0').map((value): [string, string | Buffer] => ['Accept', value]),
    junk.map((value): [string, string | Buffer] => ['Accept-Language', value]),
    junk.map((value): [string, string | Buffer] => ['DPoP', value]),
    fc.constantFrom('null', 'https://evil.example', 'http://127.0.0.1', 'x').map((value): [string, string | Buffer] => ['Origin', value]),
    fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-junk', 'gzip, gzip').map((value): [string, string | Buffer] => ['Content-Encoding', value]),
    junk.map((value): [string, string | Buffer] => ['X-Forwarded-For', value]),
    fc.constantFrom('1.2.3.4, 5.6.7.8', '::1', 'unknown').map((value): [string, string | Buffer] => ['X-Forwarded-For', value]),
    fc.constantFrom('https', 'javascript', '').map((value): [string, string | Buffer] => ['X-Forwarded-Proto', value]),
    fc.integer({ min: 100, max: 20_000 }).map((length): [string, string | Buffer] => ['X-Junk', 'h'.repeat(length)]),
    fc.uint8Array({ minLength: 1, maxLength: 40 }).map((bytes): [string, string | Buffer] => ['User-Agent', Buffer.from(bytes.map((byte) => (byte < 0x20 || byte === 0x7f ? 0x41 : byte)))]),
    fc.constantFrom('\xff\xfe', '\xc3\x28', 'caf\xe9').map((text): [string, string | Buffer] => ['X-Requested-With', Buffer.from(text, 'latin1')]),
  );
  return fc.array(header, { maxLength: 5 });
};

/** A hostile request for one route. */
export function hostileRequest(target: FuzzTarget, context: FuzzContext): fc.Arbitrary<RawRequest> {
  const segment = (name: string) =>
    fc.oneof(
      { weight: (context.pathValues[name] ?? []).length ? 3 : 0, arbitrary: (context.pathValues[name] ?? []).length ? fc.constantFrom(...context.pathValues[name]!) : fc.constant('x') },
      { weight: 2, arbitrary: encodedValue(junkString([])).map((value) => value.replace(/[/?#\s]/g, '') || 'x') },
    );
  const names = [...target.path.matchAll(/:(\w+)/g)].map((match) => match[1]!);
  const path = fc.tuple(...names.map(segment)).map((values) => {
    let index = 0;
    return target.path.replace(/:(\w+)/g, () => values[index++]!);
  });
  const query = fc.oneof(
    { weight: 2, arbitrary: fc.constant('') },
    { weight: 3, arbitrary: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...context.names), fc.string({ maxLength: 8 })), encodedValue(junkString(context.values))), { maxLength: 10 }).map((fields) => fields.map(([k, v]) => `${safeEncode(k)}=${v}`).join('&')) },
    { weight: 1, arbitrary: fc.constantFrom('%', '&&&', '=', 'a=%E0%A4%A', '%00=%00', 'a[b][c][d][e][f][g]=1', `a=${'%41'.repeat(3000)}`, '\xff\xfe') },
  );
  const method = fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...target.methods) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'FOO') });
  const contentType = fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(...CONTENT_TYPES) });
  return fc.record({ method, path, query, body: bodies(context), contentType, headers: headerArbitrary(context) }).map(({ method, path, query, body, contentType, headers }) => {
    const typeHeader = contentType ?? body?.type;
    return {
      method,
      target: Buffer.from(query ? `${path}?${query}` : path, 'latin1'),
      headers: [...(typeHeader === undefined ? [] : [['Content-Type', typeHeader] as [string, string]]), ...headers],
      ...(body ? { body: body.bytes } : {}),
    };
  });
}

// What an answer must never show: a stack trace, or a path or module inside the server.
const INTERNALS = /\n\s+at \S+ \(|\bat (?:file:|node:)|node_modules|\/work\/|\/home\/|\/src\/\w+|\.ts:\d+|\.js:\d+:\d+/;

/** Why the answer is unacceptable, or undefined when it is fine. */
export function unsoundAnswer(response: RawResponse): string | undefined {
  if (response.status >= 500) return `answered ${response.status}: ${response.body.slice(0, 300)}`;
  const leak = INTERNALS.exec(response.body);
  if (leak) return `leaked internals (${leak[0]}): ${response.body.slice(Math.max(0, leak.index - 100), leak.index + 200)}`;
  return undefined;
}
