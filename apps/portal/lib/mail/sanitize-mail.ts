/**
 * HTML mail made safe to show, on the portal's server: only inert formatting survives (no scripts, handlers, forms,
 * frames, SVG/MathML, <base>, <meta>), links open outside the page, and until the reader allows it nothing in the
 * message can make the browser fetch anything (remote images and CSS url()s are taken out and counted). The result
 * is a whole document for a sandboxed iframe, with a Content-Security-Policy of its own as a second wall.
 */
import sanitizeHtml from 'sanitize-html';

export interface SanitizedMail {
  /** The document for the iframe's srcdoc. */
  html: string;
  /** Remote images (and CSS references) left out because images were not allowed. */
  blockedRemote: number;
}

export interface SanitizeOptions {
  /** Load remote images and CSS backgrounds (the reader allowed them). */
  allowRemote: boolean;
  /** Inline images by Content-ID, as data: URLs the server already fetched. */
  inlineImages?: Map<string, string>;
}

const TAGS = [
  'a', 'abbr', 'address', 'article', 'aside', 'b', 'bdi', 'bdo', 'big', 'blockquote', 'br', 'caption', 'center', 'cite', 'code', 'col',
  'colgroup', 'dd', 'del', 'details', 'dfn', 'div', 'dl', 'dt', 'em', 'figcaption', 'figure', 'font', 'footer', 'h1', 'h2', 'h3', 'h4', 'h5',
  'h6', 'header', 'hr', 'i', 'img', 'ins', 'kbd', 'li', 'main', 'mark', 'nav', 'ol', 'p', 'pre', 'q', 's', 'samp', 'section', 'small', 'span',
  'strike', 'strong', 'style', 'sub', 'summary', 'sup', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'time', 'tr', 'tt', 'u', 'ul', 'var', 'wbr',
];
const COMMON_ATTRS = ['style', 'class', 'align', 'valign', 'dir', 'lang', 'title', 'width', 'height', 'bgcolor', 'color'];
/** Whose content goes with them, not only the tag (script text must not turn into visible text, nor a form's options). */
const DROP_WITH_CONTENT = ['script', 'noscript', 'template', 'textarea', 'option', 'select', 'title', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'svg', 'math', 'head', 'xmp', 'noembed', 'noframes', 'plaintext'];

/** CSS functions that fetch something (or ran script in old browsers), with their arguments. */
const CSS_FETCH_FN = /(url|image-set|-webkit-image-set|image|cross-fade|element|src|expression)\s*\((?:[^()]|\([^()]*\))*\)?/gi;
/** Rules that fetch: @import to the end of its statement, @font-face with its block. */
const CSS_FETCH_RULE = /@import[^;]*;?|@font-face\s*\{[^}]*\}?/gi;

/** CSS escapes decoded (`u\72l(` is `url(`), so no fetch can hide behind one. */
function decodeCssEscapes(css: string): string {
  return css.replace(/\\([0-9a-f]{1,6})\s?|\\(.)/gis, (_m, hex: string | undefined, ch: string | undefined) => {
    if (hex) {
      const code = parseInt(hex, 16);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '';
    }
    return ch ?? '';
  });
}

/** CSS with every way to load a resource taken out (or, when the reader allows remote images, only http(s)/data ones kept). */
function inertCss(css: string, allowRemote: boolean): { css: string; blocked: number } {
  let blocked = 0;
  let out = decodeCssEscapes(css.replace(/\/\*[\s\S]*?\*\//g, ' ')).replace(/[<>\\]/g, '');
  out = out.replace(/behaviou?r\s*:|-moz-binding/gi, 'x-blocked:');
  out = out.replace(CSS_FETCH_RULE, () => {
    blocked++;
    return '';
  });
  out = out.replace(CSS_FETCH_FN, (m, fn: string) => {
    if (allowRemote && /^url$/i.test(fn) && /^url\s*\(\s*['"]?\s*(https?|data):/i.test(m)) return m;
    blocked++;
    return 'none';
  });
  return { css: out, blocked: allowRemote ? 0 : blocked };
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

export function sanitizeMailHtml(raw: string, options: SanitizeOptions): SanitizedMail {
  let blocked = 0;
  const clean = sanitizeHtml(raw, {
    allowedTags: TAGS,
    nonTextTags: ['style', ...DROP_WITH_CONTENT],
    allowedAttributes: {
      '*': COMMON_ATTRS,
      a: ['href', 'name', 'target', 'rel'],
      img: ['src', 'alt', 'border', 'hspace', 'vspace'],
      table: ['border', 'cellpadding', 'cellspacing', 'summary'],
      td: ['colspan', 'rowspan', 'nowrap', 'scope'],
      th: ['colspan', 'rowspan', 'nowrap', 'scope'],
      col: ['span'],
      colgroup: ['span'],
      font: ['face', 'size'],
      ol: ['start', 'type', 'reversed'],
      li: ['value'],
      time: ['datetime'],
      details: ['open'],
    },
    allowedSchemes: ['http', 'https', 'mailto', 'tel'],
    allowedSchemesByTag: { img: ['http', 'https', 'data', 'cid'] },
    allowedSchemesAppliedToAttributes: ['href', 'src', 'cite'],
    allowProtocolRelative: false,
    // The reader's choice decides about styles' fetches below; parsing them is left to the browser inside the sandbox.
    allowVulnerableTags: true,
    parseStyleAttributes: false,
    transformTags: {
      a: (tagName, attribs) => {
        const attrs: Record<string, string> = { ...attribs, target: '_blank', rel: 'noopener noreferrer nofollow' };
        if (attrs.href && !/^(https?:|mailto:|tel:)/i.test(attrs.href.trim())) delete attrs.href;
        return { tagName, attribs: attrs };
      },
      img: (tagName, attribs) => {
        const attrs = { ...attribs };
        const src = (attrs.src ?? '').trim();
        if (/^cid:/i.test(src)) {
          const inline = options.inlineImages?.get(src.slice(4).replace(/^<|>$/g, '').toLowerCase());
          if (inline) attrs.src = inline;
          else delete attrs.src;
        } else if (/^data:/i.test(src)) {
          if (!/^data:image\/(png|jpeg|gif|webp);/i.test(src)) delete attrs.src;
        } else if (/^https?:/i.test(src)) {
          if (!options.allowRemote) {
            blocked++;
            delete attrs.src;
            attrs.alt = attrs.alt ?? '';
          }
        } else {
          delete attrs.src;
        }
        return { tagName, attribs: attrs };
      },
    },
    exclusiveFilter: (frame) => frame.tag === 'img' && !frame.attribs.src && !frame.attribs.alt,
  });
  // Styles (attributes and <style> text) made inert after the tags are settled.
  let html = clean.replace(/(<style[^>]*>)([\s\S]*?)(<\/style>)/gi, (_m, open: string, css: string, close: string) => {
    const r = inertCss(css, options.allowRemote);
    blocked += r.blocked;
    return open + r.css + close;
  });
  html = html.replace(/\sstyle="([^"]*)"/gi, (_m, css: string) => {
    const decoded = css.replace(/&quot;/g, '"').replace(/&#39;|&apos;/g, "'").replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>');
    const r = inertCss(decoded, options.allowRemote);
    blocked += r.blocked;
    return ` style="${escapeAttr(r.css)}"`;
  });
  const imgSrc = options.allowRemote ? 'data: https: http:' : 'data:';
  const csp = `default-src 'none'; style-src 'unsafe-inline'; img-src ${imgSrc}; font-src data:; form-action 'none'; base-uri 'none'`;
  const document =
    '<!doctype html><html><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="${csp}">` +
    '<meta name="referrer" content="no-referrer"><base target="_blank">' +
    '<style>html,body{margin:0}body{padding:12px;font-family:-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;font-size:14px;line-height:1.5;color:#1f1f1f;overflow-wrap:anywhere}img{max-width:100%;height:auto}pre{white-space:pre-wrap}table{max-width:100%}</style>' +
    `</head><body>${html}</body></html>`;
  return { html: document, blockedRemote: blocked };
}

/** An HTML body as plain text for quoting: tags dropped, line breaks kept where blocks end. */
export function htmlToPlain(html: string): string {
  const marked = html.replace(/<(br|\/p|\/div|\/li|\/tr|\/h[1-6])\b[^>]*>/gi, (m) => `${m}\n`);
  const text = sanitizeHtml(marked, { allowedTags: [], allowedAttributes: {}, nonTextTags: ['style', ...DROP_WITH_CONTENT] });
  return text.replace(/&nbsp;/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&').replace(/\n{3,}/g, '\n\n').trim();
}
