// oidc-provider ships no type declarations; the OIDC test only starts it as a local issuer.
declare module 'oidc-provider';
