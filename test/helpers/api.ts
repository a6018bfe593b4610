// Keyhold's JSON API as a client calls it: a bearer token, a JSON body, a parsed answer.
export interface ApiResponse {
  status: number;
  headers: Headers;
  body: Record<string, any>;
}

/** `body` is sent as JSON, or as is when it is a string (to send malformed JSON). */
export async function callApi(server: { issuer: string }, token: string | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
  const response = await fetch(`${server.issuer}${path}`, {
    method,
    headers: {
      accept: 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, any>) : {} };
}
