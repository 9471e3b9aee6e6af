// Minimal types for the parts of mailsplit 5.4 that libs/mime uses (the package ships none).
declare module 'mailsplit' {
  import { Transform } from 'node:stream';

  export interface MimeNode {
    type: 'node';
    root: boolean;
    parentNode: MimeNode | false;
    contentType: string | false;
    encoding: string | false;
    disposition: string | false;
    multipart: string | false;
    rfc822: boolean;
    headers: unknown;
    _headersLines: Buffer[];
    _headerlen: number;
    _boundary: Buffer | false;
    _parentBoundary: Buffer | false;
    parseHeaders(): void;
    addHeaderChunk(line: Buffer): void;
  }

  export interface SplitterChunk {
    type: 'body' | 'data';
    node: MimeNode;
    value: Buffer;
  }

  export interface SplitterConfig {
    maxHeadSize?: number;
    maxChildNodes?: number;
    ignoreEmbedded?: boolean;
    defaultInlineEmbedded?: boolean;
  }

  export class Splitter extends Transform {
    constructor(config?: SplitterConfig);
    protected node: MimeNode;
    protected state: number;
    protected newNode(parent?: MimeNode | false): void;
    /** 1 next part, 2 close delimiter, false not this boundary. */
    protected compareBoundary(line: Buffer, startpos: number, boundary: Buffer): number | false;
  }
}

declare module 'mailsplit/lib/mime-node' {
  import type { MimeNode } from 'mailsplit';

  const MimeNodeClass: new (parentNode: MimeNode | false, config?: object) => MimeNode;
  export = MimeNodeClass;
}
