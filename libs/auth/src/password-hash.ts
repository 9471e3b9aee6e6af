// Mailbox password hashes: argon2id for new ones; verifying the crypt, SSHA and bcrypt forms that imports bring in.
import { createHash, timingSafeEqual } from 'node:crypto';
import {
  Algorithm,
  Version,
  hash as argon2Hash,
  parseOptions as argon2Options,
  verify as argon2Verify,
} from '@node-rs/argon2';
import bcrypt from 'bcryptjs';

export type PasswordScheme =
  | 'ARGON2ID'
  | 'SHA512-CRYPT'
  | 'SHA256-CRYPT'
  | 'MD5-CRYPT'
  | 'SSHA'
  | 'SSHA512'
  | 'BLF-CRYPT';

/** A stored or imported hash this module cannot read; `reason` is written for the person who supplied it. */
export class UnsupportedHashError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'UnsupportedHashError';
  }
}

// OWASP baseline (19 MiB, 2 passes, 1 lane): about 25 ms per hash on the 2-core dev box.
const ARGON2_OPTIONS = {
  algorithm: Algorithm.Argon2id,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
  outputLen: 32,
} as const;

const SCHEMES: readonly PasswordScheme[] = [
  'ARGON2ID',
  'SHA512-CRYPT',
  'SHA256-CRYPT',
  'MD5-CRYPT',
  'SSHA',
  'SSHA512',
  'BLF-CRYPT',
];

const CRYPT64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

// Byte order of the crypt base64 output, most significant byte of each group first,
// as listed by the SHA-crypt spec and by md5crypt.
const SHA512_ORDER = [
  [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48], [28, 49, 7],
  [50, 8, 29], [9, 30, 51], [31, 52, 10], [53, 11, 32], [12, 33, 54], [34, 55, 13], [56, 14, 35], [15, 36, 57],
  [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41], [63],
] as const;
const SHA256_ORDER = [
  [0, 10, 20], [21, 1, 11], [12, 22, 2], [3, 13, 23], [24, 4, 14], [15, 25, 5], [6, 16, 26], [27, 7, 17],
  [18, 28, 8], [9, 19, 29], [31, 30],
] as const;
const MD5_ORDER = [[0, 6, 12], [1, 7, 13], [2, 8, 14], [3, 9, 15], [4, 10, 5], [11]] as const;

interface ShaCryptVariant {
  scheme: 'SHA512-CRYPT' | 'SHA256-CRYPT';
  id: '6' | '5';
  algorithm: 'sha512' | 'sha256';
  size: number;
  order: readonly (readonly number[])[];
}
const SHA512_CRYPT: ShaCryptVariant = {
  scheme: 'SHA512-CRYPT',
  id: '6',
  algorithm: 'sha512',
  size: 64,
  order: SHA512_ORDER,
};
const SHA256_CRYPT: ShaCryptVariant = {
  scheme: 'SHA256-CRYPT',
  id: '5',
  algorithm: 'sha256',
  size: 32,
  order: SHA256_ORDER,
};

const SHA_CRYPT_DEFAULT_ROUNDS = 5000;
const SHA_CRYPT_MIN_ROUNDS = 1000;
const SHA_CRYPT_MAX_ROUNDS = 999_999_999;
/** Highest SHA-crypt cost accepted from an import (passlib's default is 656,000). */
const IMPORT_MAX_SHA_CRYPT_ROUNDS = 1_000_000;
/**
 * The most a stored hash may cost to verify. A sign-in attempt by anyone, over any protocol, pays
 * it: a planted bcrypt cost 31 or argon2id m=4 GiB would be hours of CPU or gigabytes per guess.
 * Imports refuse hashes above them (with the row's reason), and verification refuses them too, so a
 * row written before these limits cannot stall a node either.
 */
export const HASH_COST_LIMITS = {
  /** bcryptjs runs in JavaScript: cost 12 is ~0.3 s here, each step doubles it. */
  bcryptMaxCost: 12,
  /** argon2id memory in KiB (64 MiB; our own hashes use 19 MiB). */
  argon2MaxMemoryKiB: 65_536,
  argon2MaxPasses: 8,
  argon2MaxLanes: 8,
  /** memory × passes: 64 MiB over 4 passes, or 19 MiB over 13. */
  argon2MaxWorkKiB: 262_144,
  shaCryptMaxRounds: IMPORT_MAX_SHA_CRYPT_ROUNDS,
} as const;
const SHA_CRYPT_MAX_SALT = 16;
const MD5_CRYPT_MAX_SALT = 8;

type ParsedHash =
  | {
      scheme: 'SHA512-CRYPT' | 'SHA256-CRYPT';
      body: string;
      variant: ShaCryptVariant;
      rounds: number | undefined;
      salt: string;
      encoded: string;
    }
  | { scheme: 'MD5-CRYPT'; body: string; salt: string; encoded: string }
  | { scheme: 'SSHA' | 'SSHA512'; body: string; digest: Buffer; salt: Buffer }
  | { scheme: 'BLF-CRYPT'; body: string }
  | { scheme: 'ARGON2ID'; body: string };

/** Hash a new password with argon2id (via @node-rs/argon2, already installed). Returns '{ARGON2ID}$argon2id$...' */
export async function hashPassword(password: string): Promise<string> {
  return `{ARGON2ID}${await argon2Hash(password, ARGON2_OPTIONS)}`;
}

/**
 * Verify against any supported stored form; constant-time compares; never throws on a wrong password (returns false).
 * A stored value that is not a readable hash at all throws UnsupportedHashError, so corrupt rows surface
 * instead of looking like a mistyped password.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  assertAffordable(parsed);
  const secret = Buffer.from(password, 'utf8');
  switch (parsed.scheme) {
    case 'ARGON2ID':
      return argon2Verify(parsed.body, secret);
    case 'BLF-CRYPT':
      // bcryptjs reads $2a$/$2y$ the same as $2b$ but compares the prefix too, so give it the one it writes.
      return bcrypt.compare(password, `$2b$${parsed.body.slice(4)}`);
    case 'SHA512-CRYPT':
    case 'SHA256-CRYPT': {
      const rounds = clamp(parsed.rounds ?? SHA_CRYPT_DEFAULT_ROUNDS, SHA_CRYPT_MIN_ROUNDS, SHA_CRYPT_MAX_ROUNDS);
      const digest = shaCrypt(parsed.variant, secret, Buffer.from(parsed.salt, 'utf8'), rounds);
      return equalText(encodeCrypt64(digest, parsed.variant.order), parsed.encoded);
    }
    case 'MD5-CRYPT':
      return equalText(
        encodeCrypt64(md5Crypt(secret, Buffer.from(parsed.salt, 'utf8')), MD5_ORDER),
        parsed.encoded,
      );
    case 'SSHA':
    case 'SSHA512': {
      const algorithm = parsed.scheme === 'SSHA' ? 'sha1' : 'sha512';
      return timingSafeEqual(createHash(algorithm).update(secret).update(parsed.salt).digest(), parsed.digest);
    }
  }
}

/** true when the stored form is not our current argon2id form (so login should re-hash and store). */
export function needsRehash(stored: string): boolean {
  if (!stored.startsWith('{ARGON2ID}$argon2id$')) return true;
  try {
    const options = argon2Options(stored.slice('{ARGON2ID}'.length));
    return (
      options.version !== Version.V0x13 ||
      options.memoryCost !== ARGON2_OPTIONS.memoryCost ||
      options.timeCost !== ARGON2_OPTIONS.timeCost ||
      options.parallelism !== ARGON2_OPTIONS.parallelism ||
      options.outputLen !== ARGON2_OPTIONS.outputLen
    );
  } catch {
    return true;
  }
}

/**
 * Validate and normalise an imported hash (from a CSV import): accepts Dovecot-style '{SCHEME}...' prefixes and also
 * bare '$6$', '$5$', '$1$', '$2a$/$2b$/$2y$', '$argon2id$' forms; returns the stored form with the '{SCHEME}' prefix;
 * throws UnsupportedHashError with a human reason for anything malformed (wrong length, bad base64, unknown scheme).
 */
export function normaliseImportedHash(hash: string): string {
  const parsed = parseHash(hash.trim());
  if ((parsed.scheme === 'SHA512-CRYPT' || parsed.scheme === 'SHA256-CRYPT') && parsed.rounds !== undefined) {
    // crypt() writes the clamped count, so anything outside the range was not produced by it.
    if (parsed.rounds < SHA_CRYPT_MIN_ROUNDS || parsed.rounds > SHA_CRYPT_MAX_ROUNDS) {
      throw new UnsupportedHashError(
        `${parsed.scheme} rounds=${parsed.rounds} is outside ${SHA_CRYPT_MIN_ROUNDS}..${SHA_CRYPT_MAX_ROUNDS}`,
      );
    }
  }
  assertAffordable(parsed);
  return `{${parsed.scheme}}${parsed.body}`;
}

/** Throws UnsupportedHashError when verifying this hash would cost more than HASH_COST_LIMITS allow. */
function assertAffordable(parsed: ParsedHash): void {
  const L = HASH_COST_LIMITS;
  switch (parsed.scheme) {
    case 'SHA512-CRYPT':
    case 'SHA256-CRYPT':
      // Verifying runs on the event loop (~3.6 µs a round): refuse costs that would stall a node at sign-in.
      if ((parsed.rounds ?? SHA_CRYPT_DEFAULT_ROUNDS) > L.shaCryptMaxRounds) {
        throw new UnsupportedHashError(`${parsed.scheme} rounds=${parsed.rounds} is above the import limit of ${L.shaCryptMaxRounds}`);
      }
      return;
    case 'BLF-CRYPT': {
      const cost = Number(parsed.body.slice(4, 6));
      if (cost > L.bcryptMaxCost) throw new UnsupportedHashError(`BLF-CRYPT cost ${cost} is above the import limit of ${L.bcryptMaxCost}`);
      return;
    }
    case 'ARGON2ID': {
      const o = argon2Options(parsed.body);
      if (o.memoryCost > L.argon2MaxMemoryKiB) {
        throw new UnsupportedHashError(`ARGON2ID m=${o.memoryCost} KiB is above the import limit of ${L.argon2MaxMemoryKiB} KiB`);
      }
      if (o.timeCost > L.argon2MaxPasses) throw new UnsupportedHashError(`ARGON2ID t=${o.timeCost} is above the import limit of ${L.argon2MaxPasses}`);
      if (o.parallelism > L.argon2MaxLanes) throw new UnsupportedHashError(`ARGON2ID p=${o.parallelism} is above the import limit of ${L.argon2MaxLanes}`);
      if (o.memoryCost * o.timeCost > L.argon2MaxWorkKiB) {
        throw new UnsupportedHashError(`ARGON2ID m×t=${o.memoryCost * o.timeCost} is above the import limit of ${L.argon2MaxWorkKiB}`);
      }
      return;
    }
    default:
      return;
  }
}

/** The scheme of a stored (or bare imported) hash, read from its prefix; normaliseImportedHash checks the rest. */
export function schemeOf(stored: string): PasswordScheme {
  return identify(stored).scheme;
}

function identify(hash: string): { scheme: PasswordScheme; body: string } {
  const prefix = /^\{([^}]*)\}/.exec(hash);
  if (!prefix) {
    const scheme = cryptScheme(hash);
    if (!scheme) {
      throw new UnsupportedHashError(
        'not a recognised password hash: expected a {SCHEME} prefix or a $6$, $5$, $1$, $2b$ or $argon2id$ crypt string',
      );
    }
    return { scheme, body: hash };
  }
  // Dovecot reads scheme names case-insensitively, and {CRYPT} means "whatever crypt() makes of it".
  const name = prefix[1].toUpperCase();
  const body = hash.slice(prefix[0].length);
  if (name === 'CRYPT') {
    const scheme = cryptScheme(body);
    if (!scheme || scheme === 'ARGON2ID') {
      throw new UnsupportedHashError('{CRYPT} value is not a $6$, $5$, $1$ or $2b$ crypt string');
    }
    return { scheme, body };
  }
  const scheme = SCHEMES.find((known) => known === name);
  if (!scheme) {
    const supported = SCHEMES.map((known) => `{${known}}`).join(', ');
    throw new UnsupportedHashError(`unknown password scheme {${prefix[1]}}; supported: ${supported}`);
  }
  const inner = cryptScheme(body);
  if (inner && inner !== scheme) {
    throw new UnsupportedHashError(`prefix says {${scheme}} but the value is a ${inner} hash`);
  }
  return { scheme, body };
}

function cryptScheme(body: string): PasswordScheme | undefined {
  if (body.startsWith('$6$')) return 'SHA512-CRYPT';
  if (body.startsWith('$5$')) return 'SHA256-CRYPT';
  if (body.startsWith('$1$')) return 'MD5-CRYPT';
  if (/^\$2[abxy]?\$/.test(body)) return 'BLF-CRYPT';
  if (body.startsWith('$argon2')) return 'ARGON2ID';
  return undefined;
}

function parseHash(hash: string): ParsedHash {
  const { scheme, body } = identify(hash);
  switch (scheme) {
    case 'SHA512-CRYPT':
    case 'SHA256-CRYPT':
      return parseShaCrypt(scheme === 'SHA512-CRYPT' ? SHA512_CRYPT : SHA256_CRYPT, body);
    case 'MD5-CRYPT':
      return parseMd5Crypt(body);
    case 'SSHA':
    case 'SSHA512':
      return parseSsha(scheme, body);
    case 'BLF-CRYPT':
      return parseBcrypt(body);
    case 'ARGON2ID':
      return parseArgon2id(body);
  }
}

function parseShaCrypt(variant: ShaCryptVariant, body: string): ParsedHash {
  const name = variant.scheme;
  const match = /^\$[56]\$(?:rounds=([0-9]{1,10})\$)?([^$]*)\$([^$]*)$/.exec(body);
  if (!match) throw new UnsupportedHashError(`${name} value must look like $${variant.id}$[rounds=N$]salt$hash`);
  const [, roundsText, salt, encoded] = match;
  if (salt.length > SHA_CRYPT_MAX_SALT) {
    throw new UnsupportedHashError(`${name} salt is ${salt.length} characters; at most ${SHA_CRYPT_MAX_SALT}`);
  }
  checkCrypt64(name, encoded, Math.ceil((variant.size * 8) / 6));
  const rounds = roundsText === undefined ? undefined : Number(roundsText);
  return { scheme: name, body, variant, rounds, salt, encoded };
}

function parseMd5Crypt(body: string): ParsedHash {
  const match = /^\$1\$([^$]*)\$([^$]*)$/.exec(body);
  if (!match) throw new UnsupportedHashError('MD5-CRYPT value must look like $1$salt$hash');
  const [, salt, encoded] = match;
  if (salt.length > MD5_CRYPT_MAX_SALT) {
    throw new UnsupportedHashError(`MD5-CRYPT salt is ${salt.length} characters; at most ${MD5_CRYPT_MAX_SALT}`);
  }
  checkCrypt64('MD5-CRYPT', encoded, 22);
  return { scheme: 'MD5-CRYPT', body, salt, encoded };
}

/** The digest part of a crypt string: right length, crypt alphabet, no bits beyond the digest in the last character. */
function checkCrypt64(name: string, encoded: string, length: number): void {
  if (encoded.length !== length) {
    throw new UnsupportedHashError(`${name} hash part is ${encoded.length} characters; expected ${length}`);
  }
  if (!/^[./0-9A-Za-z]+$/.test(encoded)) {
    throw new UnsupportedHashError(`${name} hash part has characters outside ./0-9A-Za-z`);
  }
  const spareBits = length * 6 - Math.floor((length * 6) / 8) * 8;
  if (CRYPT64.indexOf(encoded[length - 1]) >> (6 - spareBits) !== 0) {
    throw new UnsupportedHashError(`${name} hash part does not decode to a digest (bad last character)`);
  }
}

function parseSsha(scheme: 'SSHA' | 'SSHA512', body: string): ParsedHash {
  const digestLength = scheme === 'SSHA' ? 20 : 64;
  // Buffer.from skips characters it cannot read, so insist the value re-encodes to itself.
  const bytes = Buffer.from(body, 'base64');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || bytes.toString('base64') !== body) {
    throw new UnsupportedHashError(`${scheme} value is not valid base64`);
  }
  if (bytes.length <= digestLength) {
    throw new UnsupportedHashError(
      `${scheme} value decodes to ${bytes.length} bytes; expected a ${digestLength}-byte digest followed by a salt`,
    );
  }
  return { scheme, body, digest: bytes.subarray(0, digestLength), salt: bytes.subarray(digestLength) };
}

function parseBcrypt(body: string): ParsedHash {
  const match = /^\$2([a-z]?)\$([0-9]{2})\$(.*)$/.exec(body);
  if (!match) throw new UnsupportedHashError('BLF-CRYPT value must look like $2b$NN$ followed by 53 characters');
  const [, minor, cost, rest] = match;
  if (minor === 'x') {
    throw new UnsupportedHashError('BLF-CRYPT $2x$ is the pre-2011 buggy crypt_blowfish variant and cannot be verified');
  }
  if (minor !== 'a' && minor !== 'b' && minor !== 'y') {
    throw new UnsupportedHashError(`BLF-CRYPT version $2${minor}$ is not supported; use $2a$, $2b$ or $2y$`);
  }
  if (Number(cost) < 4 || Number(cost) > 31) throw new UnsupportedHashError(`BLF-CRYPT cost ${cost} is outside 04..31`);
  if (rest.length !== 53) {
    throw new UnsupportedHashError(`BLF-CRYPT salt and hash are ${rest.length} characters; expected 53`);
  }
  if (!/^[./A-Za-z0-9]+$/.test(rest)) {
    throw new UnsupportedHashError('BLF-CRYPT salt and hash have characters outside ./A-Za-z0-9');
  }
  return { scheme: 'BLF-CRYPT', body };
}

function parseArgon2id(body: string): ParsedHash {
  const phc = /^\$argon2id\$(?:v=(?:16|19)\$)?m=[0-9]{1,10},t=[0-9]{1,10},p=[0-9]{1,3}\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;
  if (!phc.test(body)) {
    throw new UnsupportedHashError('ARGON2ID value must look like $argon2id$v=19$m=N,t=N,p=N$salt$hash');
  }
  try {
    argon2Options(body);
  } catch {
    throw new UnsupportedHashError('ARGON2ID value has a salt or hash that is not valid unpadded base64');
  }
  return { scheme: 'ARGON2ID', body };
}

/** Ulrich Drepper's SHA-crypt ("Unix crypt using SHA-256 and SHA-512"), returning the final digest before encoding. */
function shaCrypt(variant: ShaCryptVariant, password: Buffer, salt: Buffer, rounds: number): Buffer {
  const { algorithm, size } = variant;
  const altDigest = createHash(algorithm).update(password).update(salt).update(password).digest();

  const a = createHash(algorithm).update(password).update(salt);
  let remaining = password.length;
  for (; remaining > size; remaining -= size) a.update(altDigest);
  a.update(altDigest.subarray(0, remaining));
  for (let bits = password.length; bits > 0; bits >>= 1) a.update(bits & 1 ? altDigest : password);
  const aDigest = a.digest();

  const dp = createHash(algorithm);
  for (let i = 0; i < password.length; i++) dp.update(password);
  const pSequence = repeatTo(dp.digest(), password.length);

  const ds = createHash(algorithm);
  for (let i = 0; i < 16 + aDigest[0]; i++) ds.update(salt);
  const sSequence = ds.digest().subarray(0, salt.length);

  let c = aDigest;
  for (let i = 0; i < rounds; i++) {
    const round = createHash(algorithm);
    round.update(i & 1 ? pSequence : c);
    if (i % 3 !== 0) round.update(sSequence);
    if (i % 7 !== 0) round.update(pSequence);
    round.update(i & 1 ? c : pSequence);
    c = round.digest();
  }
  return c;
}

/** Poul-Henning Kamp's md5crypt as in FreeBSD's libcrypt, returning the final digest before encoding. */
function md5Crypt(password: Buffer, salt: Buffer): Buffer {
  const altDigest = createHash('md5').update(password).update(salt).update(password).digest();
  const ctx = createHash('md5').update(password).update('$1$').update(salt);
  for (let remaining = password.length; remaining > 0; remaining -= 16) {
    ctx.update(altDigest.subarray(0, Math.min(remaining, 16)));
  }
  // The original passes one byte of a zeroed buffer or the first password byte for each bit of the length.
  for (let bits = password.length; bits > 0; bits >>= 1) {
    ctx.update(bits & 1 ? Buffer.alloc(1) : password.subarray(0, 1));
  }
  let digest = ctx.digest();

  for (let i = 0; i < 1000; i++) {
    const round = createHash('md5');
    round.update(i & 1 ? password : digest);
    if (i % 3 !== 0) round.update(salt);
    if (i % 7 !== 0) round.update(password);
    round.update(i & 1 ? digest : password);
    digest = round.digest();
  }
  return digest;
}

function encodeCrypt64(bytes: Buffer, order: readonly (readonly number[])[]): string {
  let out = '';
  for (const group of order) {
    let word = 0;
    for (const index of group) word = (word << 8) | bytes[index];
    for (let chars = Math.ceil((group.length * 8) / 6); chars > 0; chars--) {
      out += CRYPT64[word & 0x3f];
      word >>>= 6;
    }
  }
  return out;
}

function repeatTo(block: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let offset = 0; offset < length; offset += block.length) {
    block.copy(out, offset, 0, Math.min(block.length, length - offset));
  }
  return out;
}

function equalText(computed: string, stored: string): boolean {
  const a = Buffer.from(computed, 'latin1');
  const b = Buffer.from(stored, 'latin1');
  return a.length === b.length && timingSafeEqual(a, b);
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}
