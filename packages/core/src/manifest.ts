/**
 * A backend package describes itself with a manifest, so the umbrella, the conformance suite,
 * the CLI and the web page read names, priorities and packages from the backends instead of
 * keeping their own lists. A package exports it as `manifest` from its main entry and from a
 * small `<package>/manifest` entry that does not load the backend until `create()` is called.
 */
import type { Backend } from './backend.js';

/** What a backend package says about itself. */
export interface BackendManifest {
  /** The name it registers under (`setBackend(name)`). */
  readonly name: string;
  /**
   * Registry priority: `ready()` tries the highest first; 0 or less means "only when asked for"
   * (WebGPU, which may need a driver).
   */
  readonly priority: number;
  /** The npm package that provides it; importing the package registers the backend. */
  readonly package: string;
  /** Loads the package (on first use) and creates a backend instance. */
  readonly create: () => Promise<Backend>;
}
