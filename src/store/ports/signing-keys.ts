/** A JWS signing key as stored: public parts in the clear, the private part sealed under the KEK. */
export interface StoredSigningKey {
  kid: string;
  alg: 'EdDSA' | 'ES256' | 'RS256' | 'HS256';
  status: 'next' | 'active' | 'retired';
  createdAt: number;
  /** When it stopped signing; it verifies until every token it signed has expired. */
  retiredAt: number | null;
  /** JSON of the public JWK; null for HS256. */
  publicJwk: string | null;
  privateKeyEncrypted: string;
}

export interface SigningKeyStore {
  listSigningKeys(): Promise<StoredSigningKey[]>;
  createSigningKey(key: StoredSigningKey): Promise<void>;
  updateSigningKeyStatus(
    kid: string,
    status: StoredSigningKey['status'],
    retiredAt: number | null,
  ): Promise<void>;
  /** Removes a key (compromised, or past its last token); true when one was removed. */
  deleteSigningKey(kid: string): Promise<boolean>;
}
