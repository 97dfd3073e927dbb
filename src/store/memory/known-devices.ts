import type { KnownDeviceStore } from '../ports/known-devices.js';

export class MemoryKnownDevices implements KnownDeviceStore {
  readonly #devices = new Map<string, Set<string>>();

  async rememberDevice(userId: string, fingerprint: string): Promise<boolean> {
    const known = this.#devices.get(userId) ?? new Set<string>();
    this.#devices.set(userId, known);
    if (known.has(fingerprint)) return false;
    known.add(fingerprint);
    return true;
  }

  async hasKnownDevices(userId: string): Promise<boolean> {
    return (this.#devices.get(userId)?.size ?? 0) > 0;
  }
}
