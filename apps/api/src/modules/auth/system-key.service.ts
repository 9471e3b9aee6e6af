/** Ed25519 key pairs the installation makes for itself (access tokens, registration codes), kept in PostgreSQL so every node shares them. */
import { Injectable } from '@nestjs/common';
import { generateKeyPairSync, KeyObject, createPrivateKey, createPublicKey } from 'node:crypto';
import { DataSource } from 'typeorm';
import { SystemKeyEntity } from '@dizi/db/entities/identity.entity';

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

@Injectable()
export class SystemKeyService {
  private readonly cache = new Map<string, Promise<KeyPair>>();

  constructor(private readonly dataSource: DataSource) {}

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
        privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      })
      .orIgnore()
      .execute();
    const row = await repo.findOneByOrFail({ purpose });
    return { privateKey: createPrivateKey(row.privateKey), publicKey: createPublicKey(row.publicKey) };
  }
}
