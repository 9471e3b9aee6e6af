/**
 * Ed25519 key pairs the installation makes for itself (access tokens, registration codes), kept in PostgreSQL so every
 * node shares them, the private key sealed (libs/auth/src/keys-at-rest.ts). At start the API seals the private keys an
 * earlier release stored as plain PEM, its own and every domain's DKIM key.
 */
import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { generateKeyPairSync, KeyObject, createPrivateKey, createPublicKey } from 'node:crypto';
import { DataSource } from 'typeorm';
import { openKeyAtRest, sealKeysAtRest, systemKeyField } from '@dizi/auth/keys-at-rest';
import type { SecretBox } from '@dizi/auth/secret-box';
import { SystemKeyEntity } from '@dizi/db/entities/identity.entity';
import { SECRET_BOX } from '../../common/tokens';

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

@Injectable()
export class SystemKeyService implements OnModuleInit {
  private readonly logger = new Logger(SystemKeyService.name);
  private readonly cache = new Map<string, Promise<KeyPair>>();

  constructor(
    private readonly dataSource: DataSource,
    @Inject(SECRET_BOX) private readonly secretBox: SecretBox,
  ) {}

  /**
   * Seals plain PEM keys left by an earlier release. A start step rather than a migration: the key that seals them
   * lives in the configuration (SETTINGS_ENCRYPTION_KEY or the data directory), which migrations, run by whoever
   * migrates the database, must not need.
   */
  async onModuleInit(): Promise<void> {
    const sealed = await sealKeysAtRest(this.dataSource, this.secretBox);
    if (sealed.systemKeys + sealed.dkimKeys > 0) this.logger.log(`sealed private keys stored in clear: ${sealed.systemKeys} system, ${sealed.dkimKeys} DKIM`);
  }

  get(purpose: string): Promise<KeyPair> {
    let pair = this.cache.get(purpose);
    if (!pair) {
      pair = this.load(purpose);
      this.cache.set(purpose, pair);
      pair.catch(() => this.cache.delete(purpose));
    }
    return pair;
  }

  private async load(purpose: string): Promise<KeyPair> {
    const repo = this.dataSource.getRepository(SystemKeyEntity);
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    // First writer wins; everyone then reads the same row.
    await repo
      .createQueryBuilder()
      .insert()
      .values({
        purpose,
        algorithm: 'Ed25519',
        publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        privateKey: this.secretBox.seal(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), systemKeyField(purpose)),
      })
      .orIgnore()
      .execute();
    const row = await repo.findOneByOrFail({ purpose });
    return {
      privateKey: createPrivateKey(openKeyAtRest(this.secretBox, row.privateKey, systemKeyField(purpose))),
      publicKey: createPublicKey(row.publicKey),
    };
  }
}
