// The engine builds a client's model from the metadata its adapter returns, and on every
// lookup tells whether it has built it before by hashing that metadata (JSON and SHA-256
// of the whole record, on every request that names a client). Keyhold's adapter answers
// from a cache (src/oidc/engine-lookups.ts) that hands out the same metadata object until
// the client changes, when the change feed evicts it and the next lookup reads a new one.
// So the object itself says whether the model is current: it is remembered per object, and
// a changed, disabled or deleted client (new object, or none) goes the engine's own way.
import type Provider from 'oidc-provider';

type ClientModel = Provider['Client'];
type EngineClient = NonNullable<Awaited<ReturnType<ClientModel['find']>>>;

export function reuseClientModels(provider: Provider): void {
  const Client = provider.Client as ClientModel & { adapter: { find(id: string): Promise<object | undefined> } };
  const find = Client.find.bind(Client);
  const built = new WeakMap<object, EngineClient>();
  Client.find = async (id: string) => {
    if (typeof id !== 'string' || id.length === 0) return find(id);
    const metadata = await Client.adapter.find(id);
    const known = metadata && built.get(metadata);
    if (known) return known;
    const client = await find(id);
    // Remembered only if the cache still holds that same object: the engine's own lookup
    // then read it too (an evicted object never comes back from the cache).
    if (client && metadata && (await Client.adapter.find(id)) === metadata) built.set(metadata, client);
    return client;
  };
}
