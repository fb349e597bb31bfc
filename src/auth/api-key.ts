// API keys: how they look, how they are made and hashed, and which scope lets a key do what.
// Framework-free, so that the CLI and tests can use it too.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { MAX_API_KEY_LENGTH } from '../config/config.js';
import { API_KEY_SCOPES, type ApiKeyScope } from '../storage/entities.js';

export { API_KEY_SCOPES, type ApiKeyScope };

/** What a route needs: nothing (public), or a key with this scope (`admin` may do everything). */
export type AccessLevel = 'public' | ApiKeyScope;

/** The key given in TRIPLINE_ADMIN_KEY is stored under this id; its text is the operator's own. */
export const ENV_ADMIN_KEY_ID = 'env-admin';

// tl_<12 hex: public id>_<43 base64url: 256 random bits>. The id finds the record without the secret
// being used as a lookup key; the secret is then compared in constant time.
const ISSUED_KEY = /^tl_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface IssuedKey {
  id: string;
  /** The whole key, shown once. */
  key: string;
}

export function generateApiKey(): IssuedKey {
  const id = randomBytes(6).toString('hex');
  return { id, key: `tl_${id}_${randomBytes(32).toString('base64url')}` };
}

/** The id inside a key this service issued; undefined for anything else (e.g. TRIPLINE_ADMIN_KEY). */
export function issuedKeyId(token: string): string | undefined {
  return ISSUED_KEY.exec(token)?.[1];
}

/** sha256 of the whole key, hex. Keys carry 256 random bits, so a fast hash is enough (no brute force). */
export function hashApiKey(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Compares a presented key with a stored hash in time that does not depend on where they differ. */
export function keyMatches(token: string, storedHash: string): boolean {
  const presented = Buffer.from(hashApiKey(token), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}

export function scopesAllow(scopes: readonly ApiKeyScope[], needed: ApiKeyScope): boolean {
  return scopes.includes('admin') || scopes.includes(needed);
}

/**
 * The key in an Authorization header: `Bearer <key>`, or `Splunk <key>` as HEC clients send it.
 * Undefined when there is no header; null when there is one in another form.
 */
export function credentialsOf(header: string | undefined): string | null | undefined {
  if (header === undefined) return undefined;
  const match = /^(?:Bearer|Splunk)[ ]+([\x21-\x7e]+)[ ]*$/i.exec(header);
  const token = match?.[1];
  return token !== undefined && token.length <= MAX_API_KEY_LENGTH ? token : null;
}
