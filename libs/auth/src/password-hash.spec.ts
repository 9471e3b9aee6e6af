import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { Algorithm, hash as argon2Hash } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';
import {
  UnsupportedHashError,
  hashPassword,
  needsRehash,
  normaliseImportedHash,
  schemeOf,
  verifyPassword,
} from './password-hash';

/** `openssl passwd -1|-5|-6`: the reference hashes come from OpenSSL, not from the code under test. */
function opensslPasswd(flag: '-1' | '-5' | '-6', salt: string, password: string): string {
  const out = execFileSync('openssl', ['passwd', flag, '-salt', salt, password], { encoding: 'utf8' }).trim();
  if (!out.startsWith('$')) throw new Error(`openssl passwd ${flag} gave ${out}`);
  return out;
}

/** The system crypt(3) (libxcrypt) through Python's crypt module, when this Python still has it (removed in 3.13). */
function libcrypt(pairs: readonly (readonly [password: string, setting: string])[]): string[] | undefined {
  const script = [
    'import crypt, sys',
    'args = sys.argv[1:]',
    'for i in range(0, len(args), 2): print(crypt.crypt(args[i], args[i + 1]))',
  ].join('\n');
  try {
    const out = execFileSync('/usr/bin/python3', ['-W', 'ignore', '-c', script, ...pairs.flat()], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const lines = out.trimEnd().split('\n');
    return lines.length === pairs.length && lines.every((line) => line.startsWith('$')) ? lines : undefined;
  } catch {
    return undefined;
  }
}

const hasLibcrypt = libcrypt([['probe', '$2b$04$abcdefghijklmnopqrstuu']]) !== undefined;

const sshaOf = (scheme: 'SSHA' | 'SSHA512', password: string, salt: Buffer): string => {
  const digest = createHash(scheme === 'SSHA' ? 'sha1' : 'sha512')
    .update(Buffer.from(password, 'utf8'))
    .update(salt)
    .digest();
  return `{${scheme}}${Buffer.concat([digest, salt]).toString('base64')}`;
};

const LONG_PASSWORD = Array.from({ length: 1000 }, (_, i) => 'abcdefghijklmnopqrstuvwxyz0123456789'[(i * 7) % 36]).join('');

// Published test vectors from Drepper's "Unix crypt using SHA-256 and SHA-512" (also reproduced by openssl and libxcrypt).
const DREPPER_VECTORS: readonly (readonly [password: string, stored: string])[] = [
  ['Hello world!', '$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5'],
  ['Hello world!', '$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA'],
  ['This is just a test', '$5$rounds=5000$toolongsaltstrin$Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5'],
  [
    'a very much longer text to encrypt.  This one even stretches over morethan one line.',
    '$5$rounds=1400$anotherlongsalts$Rx.j8H.h8HjEDGomFU8bDkXm3XIUnzyxf12oP84Bnq1',
  ],
  ['we have a short salt string but not a short password', '$5$rounds=77777$short$JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQRd/'],
  ['a short string', '$5$rounds=123456$asaltof16chars..$gP3VQ/6X7UUEW3HkBn2w1/Ptq2jxPyzV/cZKmF/wJvD'],
  ['the minimum number is still observed', '$5$rounds=1000$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC'],
  [
    'Hello world!',
    '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1',
  ],
  [
    'Hello world!',
    '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.',
  ],
  [
    'This is just a test',
    '$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0',
  ],
  [
    'a very much longer text to encrypt.  This one even stretches over morethan one line.',
    '$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1',
  ],
  [
    'we have a short salt string but not a short password',
    '$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0',
  ],
  [
    'a short string',
    '$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1',
  ],
  [
    'the minimum number is still observed',
    '$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.',
  ],
];

// Lengths around the digest block sizes (16, 32, 64) exercise every branch of the crypt key schedules.
const PASSWORDS = [
  'x',
  'secret',
  'correct horse battery staple',
  'pässwörd ✓ 密码',
  'a'.repeat(16),
  'b'.repeat(32),
  'c'.repeat(64),
  'd'.repeat(150),
];

const flipCase = (text: string): string =>
  [...text].map((ch) => (ch === ch.toUpperCase() ? ch.toLowerCase() : ch.toUpperCase())).join('');

describe('crypt schemes against openssl passwd', () => {
  const cases = [
    { flag: '-6', scheme: 'SHA512-CRYPT', salts: ['saltstring', 'exactly16chars..', 'a.b/C9'] },
    { flag: '-5', scheme: 'SHA256-CRYPT', salts: ['saltstring', 'exactly16chars..', 'a.b/C9'] },
    { flag: '-1', scheme: 'MD5-CRYPT', salts: ['saltsalt', 'ab', 'x./Y9'] },
  ] as const;

  for (const { flag, scheme, salts } of cases) {
    it(`${scheme} accepts the right password and rejects wrong ones`, async () => {
      for (const salt of salts) {
        for (const password of PASSWORDS) {
          const stored = `{${scheme}}${opensslPasswd(flag, salt, password)}`;
          expect(await verifyPassword(password, stored), `${stored} / ${password}`).toBe(true);
          expect(await verifyPassword(`${password}!`, stored)).toBe(false);
          expect(await verifyPassword(password.slice(0, -1), stored)).toBe(false);
          expect(await verifyPassword(flipCase(password), stored)).toBe(false);
        }
      }
    });
  }

  it('reads salts that openssl truncated (16 for SHA-crypt, 8 for md5crypt)', async () => {
    const sha = opensslPasswd('-6', 'averyveryverylongsaltstring', 'secret');
    expect(sha).toMatch(/^\$6\$averyveryverylon\$/);
    expect(await verifyPassword('secret', `{SHA512-CRYPT}${sha}`)).toBe(true);
    const md5 = opensslPasswd('-1', 'abcdefghijk', 'secret');
    expect(md5).toMatch(/^\$1\$abcdefgh\$/);
    expect(await verifyPassword('secret', `{MD5-CRYPT}${md5}`)).toBe(true);
  });

  it('honours rounds=N, including the clamp to 1000', async () => {
    for (const [flag, scheme] of [['-6', 'SHA512-CRYPT'], ['-5', 'SHA256-CRYPT']] as const) {
      for (const rounds of [1000, 5000, 12345]) {
        const stored = opensslPasswd(flag, `rounds=${rounds}$roundsalt`, 'tuning the cost');
        expect(stored).toContain(`$rounds=${rounds}$`);
        expect(await verifyPassword('tuning the cost', `{${scheme}}${stored}`)).toBe(true);
        expect(await verifyPassword('tuning the cost?', `{${scheme}}${stored}`)).toBe(false);
      }
      // openssl writes the clamped count; a stored value still carrying rounds=10 is verified with 1000 rounds.
      const clamped = opensslPasswd(flag, 'rounds=10$roundstoolow', 'the minimum number is still observed');
      expect(clamped).toContain('$rounds=1000$roundstoolow$');
      expect(await verifyPassword('the minimum number is still observed', `{${scheme}}${clamped}`)).toBe(true);
      const asWritten = clamped.replace('rounds=1000', 'rounds=10');
      expect(await verifyPassword('the minimum number is still observed', `{${scheme}}${asWritten}`)).toBe(true);
      // Explicit rounds=5000 and the implicit default are the same computation but a different string.
      const explicit = opensslPasswd(flag, 'rounds=5000$samesalt', 'pw');
      const implicit = opensslPasswd(flag, 'samesalt', 'pw');
      expect(explicit.split('$').pop()).toBe(implicit.split('$').pop());
    }
  });

  it('matches the published SHA-crypt test vectors', async () => {
    for (const [password, stored] of DREPPER_VECTORS) {
      expect(await verifyPassword(password, stored), stored).toBe(true);
      // The 77777- and 123456-round vectors take long enough in JS; check wrong passwords on the cheaper ones.
      if (!/rounds=\d{5,}/.test(stored)) expect(await verifyPassword(`${password} `, stored)).toBe(false);
    }
  });

  it.skipIf(!hasLibcrypt)('verifies the empty password where libxcrypt can make one (openssl -6 cannot)', async () => {
    const [sha512, sha256, md5] = libcrypt([
      ['', '$6$emptysalt'],
      ['', '$5$rounds=2000$emptysalt'],
      ['', '$1$empty'],
    ]) ?? [];
    for (const stored of [sha512, sha256, md5]) {
      expect(await verifyPassword('', stored)).toBe(true);
      expect(await verifyPassword(' ', stored)).toBe(false);
    }
  });
});

describe('SSHA and SSHA512', () => {
  it('accepts the right password and rejects wrong ones, for Dovecot 4-byte and 8/16-byte salts', async () => {
    for (const scheme of ['SSHA', 'SSHA512'] as const) {
      for (const saltLength of [4, 8, 16]) {
        for (const password of PASSWORDS) {
          const stored = sshaOf(scheme, password, randomBytes(saltLength));
          expect(await verifyPassword(password, stored)).toBe(true);
          expect(await verifyPassword(`${password}!`, stored)).toBe(false);
          expect(await verifyPassword('', stored)).toBe(false);
        }
      }
    }
  });

  it('uses the salt (same digest with another salt does not verify)', async () => {
    const stored = sshaOf('SSHA', 'secret', Buffer.from('abcd'));
    const otherSalt = sshaOf('SSHA', 'secret', Buffer.from('abce'));
    const spliced = `{SSHA}${Buffer.concat([
      Buffer.from(stored.slice(6), 'base64').subarray(0, 20),
      Buffer.from(otherSalt.slice(6), 'base64').subarray(20),
    ]).toString('base64')}`;
    expect(await verifyPassword('secret', spliced)).toBe(false);
  });
});

describe('BLF-CRYPT', () => {
  /** Real bcrypt strings: libxcrypt when present, otherwise bcryptjs with its $2b$ rewritten to the prefix wanted. */
  function bcryptVectors(password: string): string[] {
    const setting = bcrypt.genSaltSync(4);
    const fromLibcrypt = libcrypt(['2b', '2y', '2a'].map((minor) => [password, `$${minor}$${setting.slice(4)}`] as const));
    if (fromLibcrypt) return fromLibcrypt;
    const hashed = bcrypt.hashSync(password, setting);
    return ['2b', '2y', '2a'].map((minor) => `$${minor}$${hashed.slice(4)}`);
  }

  it(`accepts $2b$, $2y$ and $2a$ hashes (source: ${hasLibcrypt ? 'libxcrypt' : 'bcryptjs'})`, async () => {
    for (const password of ['secret', 'pässwörd ✓ 密码', '']) {
      for (const hashed of bcryptVectors(password)) {
        expect(await verifyPassword(password, `{BLF-CRYPT}${hashed}`), hashed).toBe(true);
        expect(await verifyPassword(`${password}!`, `{BLF-CRYPT}${hashed}`)).toBe(false);
        expect(schemeOf(hashed)).toBe('BLF-CRYPT');
      }
    }
  });

  it('reads only the first 72 bytes of a password, as every bcrypt does', async () => {
    const [hashed] = bcryptVectors(LONG_PASSWORD);
    expect(await verifyPassword(LONG_PASSWORD, `{BLF-CRYPT}${hashed}`)).toBe(true);
    expect(await verifyPassword(`${LONG_PASSWORD.slice(0, 72)}different tail`, `{BLF-CRYPT}${hashed}`)).toBe(true);
    expect(await verifyPassword(LONG_PASSWORD.slice(0, 71), `{BLF-CRYPT}${hashed}`)).toBe(false);
  });
});

describe('ARGON2ID', () => {
  it('round-trips and stores the current parameters', async () => {
    const stored = await hashPassword('correct horse battery staple');
    expect(stored).toMatch(/^\{ARGON2ID\}\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(schemeOf(stored)).toBe('ARGON2ID');
    expect(await verifyPassword('correct horse battery staple', stored)).toBe(true);
    expect(await verifyPassword('correct horse battery stapler', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
    expect(await hashPassword('correct horse battery staple')).not.toBe(stored);
    expect(needsRehash(stored)).toBe(false);
  });

  it('verifies argon2id hashes made with other parameters', async () => {
    const phc = await argon2Hash('secret', { algorithm: Algorithm.Argon2id, memoryCost: 8192, timeCost: 3, parallelism: 2 });
    expect(await verifyPassword('secret', `{ARGON2ID}${phc}`)).toBe(true);
    expect(await verifyPassword('secret', phc)).toBe(true);
    expect(await verifyPassword('Secret', `{ARGON2ID}${phc}`)).toBe(false);
  });
});

describe('long and empty passwords', () => {
  it('verifies a 1000-character password with argon2id and SSHA', async () => {
    const stored = [
      await hashPassword(LONG_PASSWORD),
      sshaOf('SSHA', LONG_PASSWORD, randomBytes(8)),
      sshaOf('SSHA512', LONG_PASSWORD, randomBytes(8)),
    ];
    const nearMiss = `${LONG_PASSWORD.slice(0, 999)}!`;
    for (const hashed of stored) {
      expect(await verifyPassword(LONG_PASSWORD, hashed), hashed).toBe(true);
      expect(await verifyPassword(nearMiss, hashed), hashed).toBe(false);
    }
  });

  // The reference tools stop short of 1000: openssl passwd truncates to 256 characters, libxcrypt refuses 512 and up.
  it('verifies long crypt passwords at the longest length the reference tools take', async () => {
    const openssl256 = LONG_PASSWORD.slice(0, 256);
    const stored = [
      `{SHA512-CRYPT}${opensslPasswd('-6', 'longpw', openssl256)}`,
      `{SHA256-CRYPT}${opensslPasswd('-5', 'rounds=1000$longpw', openssl256)}`,
      `{MD5-CRYPT}${opensslPasswd('-1', 'longpw', openssl256)}`,
    ];
    for (const hashed of stored) {
      expect(await verifyPassword(openssl256, hashed), hashed).toBe(true);
      expect(await verifyPassword(`${openssl256.slice(0, 255)}!`, hashed), hashed).toBe(false);
      expect(await verifyPassword(LONG_PASSWORD, hashed), hashed).toBe(false);
    }
    const libxcrypt511 = LONG_PASSWORD.slice(0, 511);
    const fromLibcrypt = libcrypt([
      [libxcrypt511, '$6$longpw'],
      [libxcrypt511, '$5$longpw'],
      [libxcrypt511, '$1$longpw'],
    ]);
    for (const hashed of fromLibcrypt ?? []) {
      expect(await verifyPassword(libxcrypt511, hashed), hashed).toBe(true);
      expect(await verifyPassword(libxcrypt511.slice(0, 510), hashed), hashed).toBe(false);
    }
  });

  it('rejects the empty password against hashes of a non-empty one', async () => {
    const stored = [
      await hashPassword('secret'),
      `{SHA512-CRYPT}${opensslPasswd('-6', 'salt', 'secret')}`,
      `{SHA256-CRYPT}${opensslPasswd('-5', 'salt', 'secret')}`,
      `{MD5-CRYPT}${opensslPasswd('-1', 'salt', 'secret')}`,
      sshaOf('SSHA', 'secret', randomBytes(4)),
      sshaOf('SSHA512', 'secret', randomBytes(8)),
      `{BLF-CRYPT}${bcrypt.hashSync('secret', 4)}`,
    ];
    for (const hashed of stored) expect(await verifyPassword('', hashed), hashed).toBe(false);
  });
});

describe('verifyPassword on unreadable stored values', () => {
  it('throws UnsupportedHashError rather than answering false', async () => {
    await expect(verifyPassword('secret', 'hunter2')).rejects.toThrow(UnsupportedHashError);
    await expect(verifyPassword('secret', '{FOO}abc')).rejects.toThrow(UnsupportedHashError);
    await expect(verifyPassword('secret', '{SHA512-CRYPT}$6$salt$tooshort')).rejects.toThrow(UnsupportedHashError);
  });
});

describe('needsRehash', () => {
  it('is false only for our current argon2id form', async () => {
    expect(needsRehash(await hashPassword('secret'))).toBe(false);
    const weaker = await argon2Hash('secret', {
      algorithm: Algorithm.Argon2id,
      memoryCost: 8192,
      timeCost: 2,
      parallelism: 1,
    });
    expect(needsRehash(`{ARGON2ID}${weaker}`)).toBe(true);
    expect(needsRehash(weaker)).toBe(true);
    expect(needsRehash(`{SHA512-CRYPT}${opensslPasswd('-6', 'salt', 'secret')}`)).toBe(true);
    expect(needsRehash(`{MD5-CRYPT}${opensslPasswd('-1', 'salt', 'secret')}`)).toBe(true);
    expect(needsRehash(sshaOf('SSHA', 'secret', randomBytes(4)))).toBe(true);
    expect(needsRehash(`{BLF-CRYPT}${bcrypt.hashSync('secret', 4)}`)).toBe(true);
    expect(needsRehash('{ARGON2ID}$argon2id$garbage')).toBe(true);
    expect(needsRehash('')).toBe(true);
  });
});

describe('schemeOf', () => {
  it('reads the prefix, or the crypt id of a bare value', () => {
    expect(schemeOf('{SHA512-CRYPT}$6$salt$x')).toBe('SHA512-CRYPT');
    expect(schemeOf('$5$salt$x')).toBe('SHA256-CRYPT');
    expect(schemeOf('{MD5-CRYPT}$1$salt$x')).toBe('MD5-CRYPT');
    expect(schemeOf('{SSHA}abcd')).toBe('SSHA');
    expect(schemeOf('{ssha512}abcd')).toBe('SSHA512');
    expect(schemeOf('$2y$10$x')).toBe('BLF-CRYPT');
    expect(schemeOf('$argon2id$v=19$x')).toBe('ARGON2ID');
    expect(() => schemeOf('{FOO}abc')).toThrow(UnsupportedHashError);
    expect(() => schemeOf('plain')).toThrow(UnsupportedHashError);
  });
});

describe('normaliseImportedHash', () => {
  const sha512 = opensslPasswd('-6', 'importsalt', 'secret');
  const sha256 = opensslPasswd('-5', 'rounds=6000$importsalt', 'secret');
  const md5 = opensslPasswd('-1', 'imp', 'secret');

  it('adds the {SCHEME} prefix to bare crypt strings and keeps the value', () => {
    expect(normaliseImportedHash(sha512)).toBe(`{SHA512-CRYPT}${sha512}`);
    expect(normaliseImportedHash(sha256)).toBe(`{SHA256-CRYPT}${sha256}`);
    expect(normaliseImportedHash(md5)).toBe(`{MD5-CRYPT}${md5}`);
    const blowfish = bcrypt.hashSync('secret', 4);
    expect(normaliseImportedHash(blowfish)).toBe(`{BLF-CRYPT}${blowfish}`);
    const y = `$2y$${blowfish.slice(4)}`;
    expect(normaliseImportedHash(y)).toBe(`{BLF-CRYPT}${y}`);
    const a = `$2a$${blowfish.slice(4)}`;
    expect(normaliseImportedHash(a)).toBe(`{BLF-CRYPT}${a}`);
  });

  it('keeps Dovecot prefixes, upper-cases them, resolves {CRYPT} and trims CSV whitespace', async () => {
    expect(normaliseImportedHash(`{SHA512-CRYPT}${sha512}`)).toBe(`{SHA512-CRYPT}${sha512}`);
    expect(normaliseImportedHash(`{sha256-crypt}${sha256}`)).toBe(`{SHA256-CRYPT}${sha256}`);
    expect(normaliseImportedHash(`{CRYPT}${md5}`)).toBe(`{MD5-CRYPT}${md5}`);
    expect(normaliseImportedHash(`  {CRYPT}${sha512}\r\n`)).toBe(`{SHA512-CRYPT}${sha512}`);
    const ssha = sshaOf('SSHA', 'secret', randomBytes(4));
    expect(normaliseImportedHash(ssha.replace('{SSHA}', '{ssha}'))).toBe(ssha);
    const ssha512 = sshaOf('SSHA512', 'secret', randomBytes(8));
    expect(normaliseImportedHash(ssha512)).toBe(ssha512);
    const argon = await hashPassword('secret');
    expect(normaliseImportedHash(argon)).toBe(argon);
    expect(normaliseImportedHash(argon.slice('{ARGON2ID}'.length))).toBe(argon);
  });

  it('gives back something verifyPassword accepts', async () => {
    for (const imported of [sha512, sha256, md5]) {
      expect(await verifyPassword('secret', normaliseImportedHash(imported))).toBe(true);
    }
  });

  const rejects: readonly (readonly [label: string, value: string, reason: RegExp])[] = [
    ['empty', '', /not a recognised password hash/],
    ['garbage', 'hunter2', /not a recognised password hash/],
    ['random text with dollars', '$$$', /not a recognised password hash/],
    ['unknown scheme', '{FOO}abc', /unknown password scheme \{FOO\}/],
    ['plain-text scheme', '{PLAIN}secret', /unknown password scheme \{PLAIN\}/],
    ['prefix disagrees with value', `{SHA256-CRYPT}${sha512}`, /prefix says \{SHA256-CRYPT\} but the value is a SHA512-CRYPT/],
    ['SHA512 hash too short', sha512.slice(0, -1), /hash part is 85 characters; expected 86/],
    ['SHA512 hash too long', `${sha512}A`, /hash part is 87 characters; expected 86/],
    ['SHA256 hash wrong length', sha256.slice(0, -3), /hash part is 40 characters; expected 43/],
    ['MD5 hash wrong length', `${md5}xx`, /hash part is 24 characters; expected 22/],
    ['SHA512 bad alphabet', `${sha512.slice(0, -2)}+${sha512.slice(-1)}`, /characters outside/],
    ['SHA512 non-canonical last character', `${sha512.slice(0, -1)}z`, /bad last character/],
    ['SHA512 missing hash', '$6$importsalt', /must look like \$6\$\[rounds=N\$\]salt\$hash/],
    ['SHA512 salt over 16', '$6$seventeencharsxxx$' + sha512.split('$').pop(), /salt is 17 characters; at most 16/],
    ['MD5 salt over 8', '$1$ninechars$' + md5.split('$').pop(), /salt is 9 characters; at most 8/],
    ['rounds below 1000', sha256.replace('rounds=6000', 'rounds=10'), /rounds=10 is outside 1000\.\.999999999/],
    ['rounds above the import limit', sha256.replace('rounds=6000', 'rounds=5000000'), /rounds=5000000 is above the import limit/],
    ['SSHA bad base64', '{SSHA}not*base64!', /SSHA value is not valid base64/],
    ['SSHA base64 without padding', sshaOf('SSHA', 'x', Buffer.from('abc')).replace(/=+$/, ''), /not valid base64/],
    ['SSHA digest with no salt', `{SSHA}${createHash('sha1').update('secret').digest('base64')}`, /decodes to 20 bytes/],
    ['SSHA512 too short', `{SSHA512}${randomBytes(40).toString('base64')}`, /decodes to 40 bytes/],
    ['bcrypt too short', bcrypt.hashSync('secret', 4).slice(0, -1), /salt and hash are 52 characters; expected 53/],
    ['bcrypt $2x$', `$2x$${bcrypt.hashSync('secret', 4).slice(4)}`, /\$2x\$ is the pre-2011 buggy/],
    ['bcrypt cost 03', `$2b$03$${bcrypt.hashSync('secret', 4).slice(7)}`, /cost 03 is outside 04\.\.31/],
    ['argon2i, not argon2id', '{ARGON2ID}$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g', /ARGON2ID value must look/],
    ['argon2id bad base64', '$argon2id$v=19$m=19456,t=2,p=1$c$aGFzaGhhc2hoYXNoaGFzaA', /not valid unpadded base64/],
    ['{CRYPT} with DES crypt', '{CRYPT}abJnggxhB/yWI', /\{CRYPT\} value is not a/],
  ];

  for (const [label, value, reason] of rejects) {
    it(`rejects ${label}`, () => {
      let thrown: unknown;
      try {
        normaliseImportedHash(value);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(UnsupportedHashError);
      expect((thrown as UnsupportedHashError).reason).toMatch(reason);
    });
  }
});
