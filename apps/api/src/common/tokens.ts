/** Dependency-injection tokens for things that are not classes. */
export const API_CONFIG = Symbol('API_CONFIG');
export const REDIS = Symbol('REDIS');
