import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

/** A message as the test SMTP server received it, parsed by mailparser. */
export interface Received {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** The single link carrying a token, from the text part. */
  link: string;
  parsed: ParsedMail;
  at: number;
}

/**
 * A real SMTP server in-process (smtp-server on a random loopback port): what Tessera sends
 * goes over a socket and is parsed by mailparser. `refuse` makes it answer every RCPT with a
 * 451 (a server that refuses for now) until turned off.
 */
export class TestSmtpServer {
  readonly received: Received[] = [];
  refuse = false;
  #server: SMTPServer;
  #waiters: Array<() => void> = [];
  port = 0;

  constructor(options: SMTPServerOptions = {}) {
    this.#server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onRcptTo: (_address, _session, callback) => {
        if (this.refuse) {
          const error = new Error('mailbox temporarily unavailable') as Error & { responseCode: number };
          error.responseCode = 451;
          return callback(error);
        }
        callback();
      },
      onData: (stream, _session, callback) => {
        simpleParser(stream)
          .then((parsed) => {
            const text = parsed.text ?? '';
            const to = Array.isArray(parsed.to) ? parsed.to[0]?.text : parsed.to?.text;
            this.received.push({
              to: to ?? '',
              subject: parsed.subject ?? '',
              text,
              html: typeof parsed.html === 'string' ? parsed.html : '',
              link: /https?:\/\/\S+\?token=\S+/.exec(text)?.[0] ?? '',
              parsed,
              at: performance.now(),
            });
            for (const wake of this.#waiters.splice(0)) wake();
            callback();
          })
          .catch(callback);
      },
      ...options,
    });
  }

  async start(port = 0): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.#server.server.address() as AddressInfo).port;
    return `smtp://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** The first message to `to` matching `subject` that arrives (or has arrived), within 15 s. */
  async waitFor(to: string, subject: RegExp, after = 0): Promise<Received> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const found = this.received.slice(after).find((m) => m.to.includes(to) && subject.test(m.subject));
      if (found) return found;
      if (Date.now() > deadline) {
        throw new Error(
          `no mail to ${to} matching ${subject}; got ${this.received.map((m) => `${m.to}: ${m.subject}`).join(', ')}`,
        );
      }
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }
}

/** The token of a mailed link, and its path. */
export function linkParts(link: string): { path: string; token: string } {
  const url = new URL(link);
  return { path: url.pathname, token: url.searchParams.get('token') ?? '' };
}
