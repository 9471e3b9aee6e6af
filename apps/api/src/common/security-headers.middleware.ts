/** Response headers that keep browsers from sniffing, framing, caching or leaking API responses. */
import type { NextFunction, Request, Response } from 'express';

const COMMON: [string, string][] = [
  ['X-Content-Type-Options', 'nosniff'],
  ['X-Frame-Options', 'DENY'],
  ['Referrer-Policy', 'no-referrer'],
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  ['Cross-Origin-Resource-Policy', 'same-origin'],
  ['Strict-Transport-Security', 'max-age=31536000; includeSubDomains'],
];
/** JSON and CSV only: nothing here should ever run a script or load anything. */
const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/** The Swagger UI page loads its own scripts and styles from this origin. */
const DOCS_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'";

export function securityHeaders(docsPath: string) {
  return (req: Request, res: Response, next: NextFunction) => {
    for (const [name, value] of COMMON) res.setHeader(name, value);
    const docs = req.path === docsPath || req.path.startsWith(`${docsPath}/`);
    res.setHeader('Content-Security-Policy', docs ? DOCS_CSP : API_CSP);
    // Tokens, hashes and personal data: no shared or browser cache may keep a copy.
    if (!docs) res.setHeader('Cache-Control', 'no-store');
    next();
  };
}
