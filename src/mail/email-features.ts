import type { TesseraConfig } from '../config.js';
import type { Accounts } from '../core/accounts.js';
import type { Audit } from '../core/audit.js';
import type { Control } from '../core/control.js';
import { AccountEmail } from '../core/email/account-email.js';
import { EmailTokens } from '../core/email/email-tokens.js';
import { MailQueue } from '../core/email/mail-queue.js';
import { NewDeviceAlerts } from '../core/email/new-device-alerts.js';
import type { Runtime } from '../core/runtime.js';
import type { Sessions } from '../core/sessions.js';
import { type EmailStores, openEmailStores } from '../store/email-stores.js';
import type { Stores, UserStore } from '../store/ports/index.js';
import { DEFAULT_DELIVERY_POLICY, type DeliveryPolicy, MailDelivery } from './delivery.js';
import { createMailTransport } from './transports.js';

/** Sent and given-up messages are kept this long for operators, then swept. */
const OUTBOX_RETENTION_MS = 30 * 24 * 3_600_000;

/** Everything of issue 17 that createTessera hands out, wired once. */
export interface EmailFeatures {
  readonly stores: EmailStores;
  readonly account: AccountEmail;
  readonly alerts: NewDeviceAlerts;
  readonly delivery: MailDelivery;
  /** The outbox queue, for other features' notices (a recovery code used: core/mfa). */
  readonly mail: MailQueue;
  sweep(): Promise<void>;
}

export function openEmailFeatures(deps: {
  config: TesseraConfig;
  /** The database's (SQL or memory) stores the email tables live beside. */
  stores: Stores;
  /** Users as the rest of Tessera sees them. */
  users: UserStore;
  sessions: Sessions;
  accounts: Accounts;
  control: Control;
  audit: Audit;
  runtime: Runtime;
  deliveryPolicy?: DeliveryPolicy;
}): EmailFeatures {
  const { config, runtime, audit } = deps;
  const stores = openEmailStores(deps.stores);
  let delivery: MailDelivery | undefined;
  const transport = createMailTransport(config.mail, config.production, () => {
    if (!delivery) throw new Error('mail delivery is not wired yet');
    return delivery.log;
  });
  delivery = new MailDelivery(
    stores.outbox,
    transport,
    runtime,
    audit,
    deps.deliveryPolicy ?? DEFAULT_DELIVERY_POLICY,
  );
  const worker = delivery;
  const mail = new MailQueue(stores.outbox, runtime, () => worker.nudge());
  const tokens = new EmailTokens(stores.tokens, runtime);
  const account = new AccountEmail({
    users: deps.users,
    accounts: deps.accounts,
    verifications: stores.verifications,
    tokens,
    mail,
    sessions: deps.sessions,
    audit,
    runtime,
    publicUrl: config.mail.publicUrl,
    requireVerifiedEmail: config.mail.requireVerifiedEmail,
  });
  const alerts = new NewDeviceAlerts({
    users: deps.users,
    devices: stores.devices,
    tokens,
    mail,
    control: deps.control,
    audit,
    runtime,
    publicUrl: config.mail.publicUrl,
    enabled: config.mail.newDeviceAlerts,
  });
  return {
    stores,
    account,
    alerts,
    delivery: worker,
    mail,
    async sweep() {
      await tokens.sweep();
      await stores.outbox.deleteMailBefore(runtime.now() - OUTBOX_RETENTION_MS);
    },
  };
}
