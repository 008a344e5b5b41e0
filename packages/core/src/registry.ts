/**
 * The backend registry. Backend packages register a factory on import; `setBackend`
 * initialises one (asynchronously: WebGPU needs to await an adapter) and makes it active.
 */
import type { Backend } from './backend.js';

/** Creates a backend; may await device start-up. */
export type BackendFactory = () => Backend | Promise<Backend>;

interface Entry {
  factory: BackendFactory;
  priority: number;
  instance: Backend | null;
  pending: Promise<Backend> | null;
}

const entries = new Map<string, Entry>();
let active: Backend | null = null;

/**
 * Registers a backend factory under `name`. A higher `priority` makes it the choice of
 * {@link ready} when the user names none. Registering a name twice replaces the factory.
 */
export function registerBackend(
  name: string,
  factory: BackendFactory,
  options: { priority?: number } = {},
): void {
  const previous = entries.get(name);
  if (previous?.instance && previous.instance === active) active = null;
  entries.set(name, { factory, priority: options.priority ?? 0, instance: null, pending: null });
}

/** Names of registered backends, highest priority first. */
export function listBackends(): string[] {
  return [...entries.entries()].sort((a, b) => b[1].priority - a[1].priority).map(([n]) => n);
}

/** Edits (insert, delete, substitute, swap two neighbours) between two short names. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.length][b.length];
}

function unknown(name: string): Error {
  const known = listBackends();
  const registered = `Registered backends: ${known.length ? known.join(', ') : '(none)'}.`;
  // A typo of a registered name ('wsam', 'webgp'): suggest it, not a package to install. Short
  // names are left alone ('tpu' is not a typo of 'cpu').
  const allowed = name.length >= 6 ? 2 : name.length >= 4 ? 1 : 0;
  const near = known
    .map((k) => [k, editDistance(name.toLowerCase(), k)] as const)
    .filter(([, d]) => d <= allowed)
    .sort((a, b) => a[1] - b[1])[0]?.[0];
  if (near) return new Error(`Unknown backend '${name}'; did you mean '${near}'? ${registered}`);
  return new Error(
    `Unknown backend '${name}'. ${registered} ` +
      `Import the backend package first, e.g. import '@nabla/backend-${name}'.`,
  );
}

/** Initialises (once) and returns the backend registered under `name`, without activating it. */
export async function initBackend(name: string): Promise<Backend> {
  const entry = entries.get(name);
  if (!entry) throw unknown(name);
  if (entry.instance) return entry.instance;
  if (!entry.pending) {
    entry.pending = Promise.resolve()
      .then(() => entry.factory())
      .then(
        (b) => {
          entry.instance = b;
          return b;
        },
        (err: unknown) => {
          entry.pending = null;
          throw err;
        },
      );
  }
  return entry.pending;
}

/** Counts `setBackend` calls, so that the last call wins however long each backend takes to start. */
let switchTicket = 0;

/**
 * Initialises the named backend and makes it the active one: the backend creation functions
 * (`zeros`, `randn`, `tensor`, new modules' parameters) use when no `backend` option is given.
 * Ops never consult it: an op runs on its input tensors' backend, so a model keeps training where
 * its parameters were created whatever is active later.
 *
 * Calls are ordered: when several are in flight, the last call made wins, even if an earlier one
 * finishes starting its backend later (a call whose backend fails to start changes nothing). The
 * active backend is one global setting: two async tasks that each `await setBackend(own)` and then
 * create tensors can interleave and create them on the other's backend. In async code, pass
 * `{ backend }` to creation functions or create under {@link withBackend}, which is synchronous
 * and so cannot interleave.
 */
export async function setBackend(name: string): Promise<Backend> {
  const ticket = ++switchTicket;
  const backend = await initBackend(name);
  if (ticket === switchTicket) active = backend;
  return backend;
}

/**
 * Runs `fn` synchronously with the started backend `name` active, then restores the previous one
 * (also when `fn` throws). Safe in async code: nothing else runs while `fn` does. A returned
 * promise is an error, since the work after its first `await` would run with the previous backend.
 */
export function withBackend<T>(name: string, fn: () => T): T {
  const backend = getInitializedBackend(name);
  const previous = active;
  active = backend;
  let result: T;
  try {
    result = fn();
  } finally {
    active = previous;
  }
  if (result instanceof Promise)
    throw new Error(
      'withBackend: the function returned a Promise; it must be synchronous (create tensors inside, await outside)',
    );
  return result;
}

/** Activates the highest-priority registered backend that starts. Returns its name. */
export async function ready(): Promise<string> {
  if (active) return active.name;
  const errors: string[] = [];
  for (const name of listBackends()) {
    try {
      await setBackend(name);
      return name;
    } catch (err) {
      errors.push(`${name}: ${(err as Error).message}`);
    }
  }
  throw new Error(
    `No backend could start. ${errors.length ? errors.join('; ') : 'None is registered: import @nabla/backend-cpu.'}`,
  );
}

/** The active backend; throws when none has been set. */
export function getBackend(): Backend {
  if (!active) {
    const known = listBackends();
    throw new Error(
      `No backend is active. Call \`await setBackend(name)\` first (registered: ${known.length ? known.join(', ') : 'none; import @nabla/backend-cpu'}).`,
    );
  }
  return active;
}

/** An already initialised backend by name (for `t.to(name)`); throws if it was never started. */
export function getInitializedBackend(name: string): Backend {
  const entry = entries.get(name);
  if (!entry) throw unknown(name);
  if (!entry.instance) {
    throw new Error(
      `Backend '${name}' is registered but not started: call \`await initBackend('${name}')\` or \`await setBackend('${name}')\` first.`,
    );
  }
  return entry.instance;
}

/** Every backend started so far (for `memory()`). */
export function initializedBackends(): Backend[] {
  return [...entries.values()].flatMap((e) => (e.instance ? [e.instance] : []));
}
