/** Dependency-injection tokens for things that are not classes. */
export const API_CONFIG = Symbol('API_CONFIG');
export const REDIS = Symbol('REDIS');
/** The SecretBox under SETTINGS_ENCRYPTION_KEY that seals secrets kept in PostgreSQL (relay password, private keys). */
export const SECRET_BOX = Symbol('SECRET_BOX');
