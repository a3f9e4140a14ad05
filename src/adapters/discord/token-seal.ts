import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Seals a Discord interaction token for keeping in the store: AES-256-GCM under a key derived from the bot token.
 * Whoever reads the store (a shared Redis, a backup of the SQLite file) cannot use it to post as the bot; only a
 * process holding the same bot token can open it, and only for the record it was sealed for.
 */
export interface TokenSeal {
  /** The token encrypted and authenticated for `recordId` (a fresh nonce every time), as base64url text. */
  seal(token: string, recordId: string): string;
  /**
   * The token back, or undefined when it cannot be: sealed under another bot token (rotated since), for another
   * record, or altered. Never throws.
   */
  open(sealed: string, recordId: string): string | undefined;
}

const algorithm = 'aes-256-gcm';
const nonceBytes = 12;
const tagBytes = 16;
/** Names what the key is for, so a key derived from the bot token for anything else is a different key. */
const keyInfo = 'poquan: Discord interaction tokens at rest, v1';

/** Derives the sealing key from the bot token with HKDF-SHA256; the bot token itself goes nowhere else. */
export function createTokenSeal(botToken: string): TokenSeal {
  const key = Buffer.from(hkdfSync('sha256', botToken, '', keyInfo, 32));
  return {
    seal(token, recordId) {
      const nonce = randomBytes(nonceBytes);
      const cipher = createCipheriv(algorithm, key, nonce).setAAD(Buffer.from(recordId));
      const encrypted = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
      return Buffer.concat([nonce, cipher.getAuthTag(), encrypted]).toString('base64url');
    },
    open(sealed, recordId) {
      try {
        const bytes = Buffer.from(sealed, 'base64url');
        if (bytes.length <= nonceBytes + tagBytes) return undefined;
        const decipher = createDecipheriv(algorithm, key, bytes.subarray(0, nonceBytes))
          .setAAD(Buffer.from(recordId))
          .setAuthTag(bytes.subarray(nonceBytes, nonceBytes + tagBytes));
        const token = Buffer.concat([
          decipher.update(bytes.subarray(nonceBytes + tagBytes)),
          decipher.final(),
        ]);
        return token.toString('utf8');
      } catch {
        return undefined;
      }
    },
  };
}
