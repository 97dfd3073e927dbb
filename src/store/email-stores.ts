import { MemoryEmailTokens } from './memory/email-tokens.js';
import { MemoryEmailVerifications } from './memory/email-verifications.js';
import { MemoryKnownDevices } from './memory/known-devices.js';
import { MemoryMailOutbox } from './memory/mail-outbox.js';
import type { EmailTokenStore } from './ports/email-tokens.js';
import type { EmailVerificationStore } from './ports/email-verifications.js';
import type { Stores } from './ports/index.js';
import type { KnownDeviceStore } from './ports/known-devices.js';
import type { MailOutboxStore } from './ports/mail-outbox.js';
import { SqlEmailTokens } from './sql/email-tokens.js';
import { SqlEmailVerifications } from './sql/email-verifications.js';
import { SqlKnownDevices } from './sql/known-devices.js';
import { SqlMailOutbox } from './sql/mail-outbox.js';
import { SqlStores } from './sql/stores.js';

/** The stores of the email flows (issue 17), one per aggregate. */
export interface EmailStores {
  outbox: MailOutboxStore;
  tokens: EmailTokenStore;
  verifications: EmailVerificationStore;
  devices: KnownDeviceStore;
}

/**
 * On the SQL stores' own database (same connection, same migrations), or in memory beside
 * MemoryStores. `stores` are the database's, not the Redis-wrapped ones.
 */
export function openEmailStores(stores: Stores): EmailStores {
  if (stores instanceof SqlStores) {
    const { db } = stores;
    return {
      outbox: new SqlMailOutbox(db),
      tokens: new SqlEmailTokens(db),
      verifications: new SqlEmailVerifications(db),
      devices: new SqlKnownDevices(db),
    };
  }
  return {
    outbox: new MemoryMailOutbox(),
    tokens: new MemoryEmailTokens(),
    verifications: new MemoryEmailVerifications(),
    devices: new MemoryKnownDevices(),
  };
}
