// Signing keys and their stages (published → signing → retired → removed): rotate (a new key
// is published first, so relying parties fetch it before it signs) or retire one key early.
import type { AdminClientApi } from '../api.ts';
import type { KeyRotate, SigningKey } from '../types.ts';
import { Field, fieldOf, formatTime, Loading, Scroll, useAction, useLoad } from '../ui.tsx';

const STAGES: Record<SigningKey['stage'], string> = {
  published: 'in the JWKS, signs nothing yet',
  signing: 'signs new tokens',
  retired: 'in the JWKS until the tokens it signed expire',
  removed: 'gone from the JWKS',
};

/** When the key moves on, from the times the API gives (when it gives them). */
function nextStep(key: SigningKey): string {
  if (key.stage === 'published') return `signs from ${formatTime(key.activates_at)}`;
  if (key.stage === 'signing' && key.retired_at) return `retires ${formatTime(key.retired_at)}`;
  if (key.stage === 'retired' && key.removes_at) return `removed ${formatTime(key.removes_at)}`;
  return '—';
}

export function SigningKeys(props: { api: AdminClientApi; canWrite: boolean }) {
  const { api } = props;
  const loaded = useLoad(() => api.listKeys());
  const action = useAction();
  const keys = loaded.data?.keys;
  // The algorithms the nodes sign with: the ones with a key that is not retired.
  const algorithms = [...new Set(keys?.filter((key) => key.stage === 'published' || key.stage === 'signing').map((key) => key.alg))];

  const rotate = (event: Event) => {
    event.preventDefault();
    const alg = fieldOf(event.currentTarget as HTMLFormElement, 'alg') as KeyRotate['alg'] | '';
    void action.run(async () => {
      const answer = await api.rotateKeys(alg ? { alg } : {});
      loaded.reload();
      return `Published ${answer.rotated.join(', ')}: it signs once relying parties have had time to fetch it, and the key it replaces retires then.`;
    });
  };
  const retire = (kid: string) =>
    confirm(`Retire ${kid}? It stops signing now; tokens it signed stay valid until they expire.`) &&
    void action.run(async () => {
      await api.retireKey(kid);
      loaded.reload();
      return `${kid} retired.`;
    });

  return (
    <section>
      <h1>Signing keys</h1>
      <p class="muted">Keys move through stages: published → signing → retired → removed. A key is never removed while tokens it signed are still valid.</p>
      <Loading {...loaded} />
      {keys ? (
        <Scroll label="Signing keys">
          <table>
            <thead>
              <tr>
                <th>Key id</th>
                <th>Algorithm</th>
                <th>Stage</th>
                <th>Created</th>
                <th>Next</th>
              </tr>
            </thead>
            <tbody>
              {keys.map((key) => (
                <tr key={key.kid} data-kid={key.kid} data-stage={key.stage}>
                  <td class="id">
                    <code>{key.kid}</code>
                  </td>
                  <td>{key.alg}</td>
                  <td>
                    <strong>{key.stage}</strong>
                    <br />
                    <small class="muted">{STAGES[key.stage]}</small>
                    {props.canWrite && (key.stage === 'published' || key.stage === 'signing') ? (
                      <>
                        <br />
                        <button type="button" class="small" disabled={action.busy} onClick={() => retire(key.kid)}>
                          Retire
                        </button>
                      </>
                    ) : null}
                  </td>
                  <td>{formatTime(key.created_at)}</td>
                  <td>{nextStep(key)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      ) : null}
      {props.canWrite ? (
        <form class="row" onSubmit={rotate} aria-label="Rotate signing keys">
          <Field label="Algorithm to rotate">
            <select name="alg">
              <option value="">Every algorithm in use</option>
              {algorithms.map((alg) => (
                <option key={alg} value={alg}>
                  {alg}
                </option>
              ))}
            </select>
          </Field>
          <button type="submit" disabled={action.busy}>
            Rotate keys
          </button>
        </form>
      ) : null}
      {action.note}
    </section>
  );
}
