import { describe, expect, it } from 'vitest';
import { hostileCorpus } from '../../e2e/hostile-corpus';
import { htmlToPlain, sanitizeMailHtml } from './sanitize-mail';

const BEACON = 'http://beacon.example:8080';

/** The document without its links' targets (a link fetches nothing until clicked). */
const withoutLinks = (html: string) => html.replace(/\shref="[^"]*"/g, '');

describe('sanitizeMailHtml', () => {
  for (const mail of hostileCorpus(BEACON)) {
    it(`leaves nothing active or fetching in "${mail.name}"`, () => {
      const { html } = sanitizeMailHtml(mail.html, { allowRemote: false });
      const body = html.slice(html.indexOf('<body>'));
      expect(body).not.toMatch(/<script|<iframe|<object|<embed|<svg|<math|<form|<input|<button|<meta|<base|<link|<video|<audio|<template/i);
      expect(body).not.toMatch(/\son[a-z]+\s*=/i);
      expect(body).not.toMatch(/javascript:|data:text|expression\(|@import|url\(/i);
      expect(withoutLinks(body)).not.toContain('beacon.example');
      expect(body).not.toContain('pwned');
    });
  }

  it('counts what it blocked and lets remote images through only when allowed', () => {
    const pixel = `<img src="${BEACON}/p.gif" alt="p"><div style="background:url(${BEACON}/bg)">x</div>`;
    const blocked = sanitizeMailHtml(pixel, { allowRemote: false });
    expect(blocked.blockedRemote).toBe(2);
    expect(blocked.html).toContain("img-src data:;");
    const allowed = sanitizeMailHtml(pixel, { allowRemote: true });
    expect(allowed.blockedRemote).toBe(0);
    expect(allowed.html).toContain(`src="${BEACON}/p.gif"`);
    expect(allowed.html).toContain(`url(${BEACON}/bg)`);
    expect(allowed.html).toContain('img-src data: https: http:');
  });

  it('keeps ordinary formatting and opens links outside the page', () => {
    const { html } = sanitizeMailHtml('<h1>Hi</h1><p style="color:red"><b>bold</b> <a href="https://example.org/x">link</a></p><table><tr><td colspan="2">c</td></tr></table>', { allowRemote: false });
    expect(html).toContain('<h1>Hi</h1>');
    expect(html).toContain('style="color:red"');
    expect(html).toContain('<a href="https://example.org/x" target="_blank" rel="noopener noreferrer nofollow">link</a>');
    expect(html).toContain('<td colspan="2">c</td>');
  });

  it('puts inline (cid:) images in as data URLs and drops unknown ones', () => {
    const inlineImages = new Map([['logo@x', 'data:image/png;base64,AAAA']]);
    const { html } = sanitizeMailHtml('<img src="cid:logo@x" alt="logo"><img src="cid:missing@x">', { allowRemote: false, inlineImages });
    expect(html).toContain('<img src="data:image/png;base64,AAAA" alt="logo" />');
    expect(html).not.toContain('missing');
  });
});

describe('htmlToPlain', () => {
  it('keeps the words and line breaks, drops scripts and styles', () => {
    expect(htmlToPlain('<style>p{}</style><p>第一段</p><p>Second &amp; last</p><script>x()</script>')).toBe('第一段\nSecond & last');
  });
});
