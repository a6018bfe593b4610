// Small pieces every screen uses: loading an answer, showing an error, a labelled field.
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.ts';

export function describeError(error: unknown): string {
  if (error instanceof ApiError) return `${error.message} (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs `load` now and whenever `reload()` is called or a dependency changes. A reload keeps
 * the data shown until the new answer; another dependency (another user) does not.
 */
export function useLoad<T>(load: () => Promise<T>, dependencies: unknown[] = []) {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [round, setRound] = useState(0);
  const loadedFor = useRef<string>(undefined);
  useEffect(() => {
    let current = true;
    const key = JSON.stringify(dependencies);
    const same = loadedFor.current === key;
    loadedFor.current = key;
    setState((previous) => (same ? { ...previous, loading: true } : { loading: true }));
    load().then(
      (data) => current && setState({ data, loading: false }),
      (error: unknown) => current && setState({ error: describeError(error), loading: false }),
    );
    return () => {
      current = false;
    };
  }, [...dependencies, round]);
  return { ...state, reload: useCallback(() => setRound((value) => value + 1), []) };
}

/** Runs an action, keeping its error or its success note for display. */
export function useAction() {
  const [note, setNote] = useState<{ kind: 'error' | 'done'; text: string }>();
  const [busy, setBusy] = useState(false);
  const run = async (action: () => Promise<string | void>) => {
    setBusy(true);
    setNote(undefined);
    try {
      const done = await action();
      if (done) setNote({ kind: 'done', text: done });
    } catch (error) {
      setNote({ kind: 'error', text: describeError(error) });
    } finally {
      setBusy(false);
    }
  };
  return { run, busy, note: note ? <Note kind={note.kind}>{note.text}</Note> : null };
}

export function Note(props: { kind: 'error' | 'done'; children: ComponentChildren }) {
  return (
    <p class={`note note-${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.children}
    </p>
  );
}

export function Loading(props: { error?: string; loading: boolean }) {
  if (props.error) return <Note kind="error">{props.error}</Note>;
  return props.loading ? <p class="muted">Loading…</p> : null;
}

export function Field(props: { label: string; children: ComponentChildren; hint?: string }) {
  return (
    <label class="field">
      <span>{props.label}</span>
      {props.children}
      {props.hint ? <small class="muted">{props.hint}</small> : null}
    </label>
  );
}

export const formatTime = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString('en-GB', { timeZone: 'UTC' }) + ' UTC' : '—');

/** The value of a form's named field. */
export function fieldOf(form: HTMLFormElement, name: string): string {
  const element = form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement | null;
  return element?.value.trim() ?? '';
}

export const words = (text: string) => text.split(/[\s,]+/).filter(Boolean);

/** A wide table's frame: scrolls sideways on a narrow screen, and by keyboard too. */
export function Scroll(props: { label: string; children: ComponentChildren }) {
  return (
    <div class="scroll" tabIndex={0} role="region" aria-label={props.label}>
      {props.children}
    </div>
  );
}

/**
 * A folded form that creates one thing: "New <noun>" opens it, "Create <noun>" sends it,
 * and the action's note shows below. `busy` (when given) keeps a second send from starting.
 */
export function CreateForm(props: { noun: string; onSubmit: (event: Event) => void; note: ComponentChildren; busy?: boolean; children: ComponentChildren }) {
  return (
    <details>
      <summary>New {props.noun}</summary>
      <form class="stack" onSubmit={props.onSubmit} aria-label={`New ${props.noun}`}>
        {props.children}
        <button type="submit" disabled={props.busy}>
          Create {props.noun}
        </button>
        {props.note}
      </form>
    </details>
  );
}

/** A secret shown this once, with a button that copies it (where the browser allows). */
export function SecretOnce(props: { label: string; secret: string }) {
  const [copied, setCopied] = useState<string>();
  const copy = () =>
    navigator.clipboard.writeText(props.secret).then(
      () => setCopied('Copied.'),
      () => setCopied('Copying was refused: select the text and copy it.'),
    );
  return (
    <div class="once" role="status">
      <p>
        <strong>{props.label}</strong> (shown this once; store it now):
      </p>
      <pre>
        <code data-secret>{props.secret}</code>
      </pre>
      <p class="row">
        <button type="button" class="small" onClick={() => void copy()}>
          Copy
        </button>
        <span class="muted">{copied}</span>
      </p>
    </div>
  );
}
