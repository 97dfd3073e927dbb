import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer, { type Transporter, type TransportOptions } from 'nodemailer';
import { ConfigError } from '../config.js';
import type { MailConfig } from '../config-mail.js';
import type { MailRecord } from '../store/ports/mail-outbox.js';

/** Where the delivery worker hands a message: SMTP in production, a directory in development. */
export interface MailTransport {
  /** Resolves once the message is accepted (SMTP 250), rejects with the reason otherwise. */
  send(mail: MailRecord): Promise<void>;
  close(): void;
  /** For the start-up line: never the SMTP password. */
  readonly description: string;
}

export interface MailLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

const message = (from: string, mail: MailRecord) => ({
  from,
  to: mail.to,
  subject: mail.subject,
  text: mail.text,
  html: mail.html,
  // Bounces and replies must not open a second channel with the user about their credentials.
  headers: { 'Auto-Submitted': 'auto-generated' },
});

/** nodemailer over SMTP (TESSERA_SMTP_URL): one kept-open connection per node, bounded timeouts. */
export class SmtpTransport implements MailTransport {
  readonly #transporter: Transporter;
  readonly description: string;

  constructor(
    url: string,
    private readonly from: string,
  ) {
    this.#transporter = nodemailer.createTransport({
      url,
      // One kept-open connection: the worker sends one message at a time, and a new TCP (and
      // TLS) handshake per message would cost more than the message.
      pool: true,
      maxConnections: 1,
      // A dead server fails the attempt in seconds (and the worker retries later), never hangs it.
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    } as TransportOptions);
    const parsed = new URL(url);
    this.description = `SMTP ${parsed.protocol}//${parsed.host}`;
  }

  async send(mail: MailRecord): Promise<void> {
    await this.#transporter.sendMail(message(this.from, mail));
  }

  close(): void {
    this.#transporter.close();
  }
}

/**
 * Development: no SMTP configured, so each message becomes one .eml file (open it in any mail
 * program) and one log line naming the file and the link, so `npm start` needs no mail server.
 * This is the only place a link is ever logged, and it never runs in production.
 */
export class FileOutboxTransport implements MailTransport {
  readonly #stream = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  readonly description: string;

  constructor(
    private readonly dir: string,
    private readonly from: string,
    private readonly log: () => MailLog,
  ) {
    this.description = `development outbox ${dir}`;
  }

  async send(mail: MailRecord): Promise<void> {
    const info = await this.#stream.sendMail(message(this.from, mail));
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const file = join(
      this.dir,
      `${new Date(mail.createdAt).toISOString().replace(/[:.]/g, '-')}-${mail.kind}-${mail.id}.eml`,
    );
    writeFileSync(file, info.message as Buffer, { mode: 0o600 });
    const link = /https?:\/\/\S+\?token=\S+/.exec(mail.text)?.[0];
    this.log().info({ file, to: mail.to, link }, `mail "${mail.subject}" written to the development outbox`);
  }

  close(): void {
    this.#stream.close();
  }
}

/** The transport the configuration asks for; production without SMTP stops the start. */
export function createMailTransport(
  mail: MailConfig,
  production: boolean,
  log: () => MailLog,
): MailTransport {
  if (mail.smtpUrl) return new SmtpTransport(mail.smtpUrl, mail.from);
  if (production) {
    throw new ConfigError(
      'TESSERA_SMTP_URL is required in production (smtps://user:password@smtp.example.com:465) so recovery and verification mail can be delivered',
    );
  }
  return new FileOutboxTransport(mail.outboxDir, mail.from, log);
}
