import { MemoryEmailTokens } from './memory/email-tokens.js';
import { MemoryEmailVerifications } from './memory/email-verifications.js';
import { MemoryKnownDevices } from './memory/known-devices.js';
import { MemoryMailOutbox } from './memory/mail-outbox.js';
import type { EmailTokenStore } from './ports/email-tokens.js';
import type { EmailVerificationStore } from './ports/email-verifications.js';
import type { KnownDeviceStore } from './ports/known-devices.js';
import type { MailOutboxStore } from './ports/mail-outbox.js';
import type { Store } from './ports.js';
import { SqlEmailTokens } from './sql/email-tokens.js';
import { SqlEmailVerifications } from './sql/email-verifications.js';
import { SqlKnownDevices } from './sql/known-devices.js';
import { SqlMailOutbox } from './sql/mail-outbox.js';
import { SqlStore } from './sql/sql-store.js';

/** The stores of the email flows (issue 17), one per aggregate. */
export interface EmailStores {
  outbox: MailOutboxStore;
  tokens: EmailTokenStore;
  verifications: EmailVerificationStore;
  devices: KnownDeviceStore;
}

/** On the SQL store's own connection (same database, same migrations), or in memory beside a MemoryStore. */
export function openEmailStores(store: Store): EmailStores {
  if (store instanceof SqlStore) {
    return {
      outbox: new SqlMailOutbox(store.db),
      tokens: new SqlEmailTokens(store.db),
      verifications: new SqlEmailVerifications(store.db),
      devices: new SqlKnownDevices(store.db),
    };
  }
  return {
    outbox: new MemoryMailOutbox(),
    tokens: new MemoryEmailTokens(),
    verifications: new MemoryEmailVerifications(),
    devices: new MemoryKnownDevices(),
  };
}
