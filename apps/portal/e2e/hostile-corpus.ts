/**
 * HTML mail written to break a webmail: scripts, event handlers, javascript:/data: URLs, SVG and MathML tricks,
 * mutation-XSS strings, CSS url() beacons, <meta refresh>, <base>, forms, frames. Every script would log "pwned-…"
 * and every fetch would go to `beacon` (a host of the test's own, not the portal).
 */
export interface HostileMail {
  name: string;
  html: string;
}

export function hostileCorpus(beacon: string): HostileMail[] {
  const b = (path: string) => `${beacon}/${path}`;
  return [
    { name: 'script tag', html: `<p>hello</p><script>console.log('pwned-script');alert('pwned-script')</script>` },
    { name: 'event handlers', html: `<img src=x onerror="console.log('pwned-onerror')"><div onmouseover="alert('pwned-hover')">hover</div><details open ontoggle="console.log('pwned-toggle')"><summary>s</summary></details>` },
    { name: 'body onload', html: `<html><body onload="console.log('pwned-onload')"><p>body</p></body></html>` },
    { name: 'javascript and data links', html: `<a href="javascript:console.log('pwned-jslink')">js</a> <a href="data:text/html;base64,PHNjcmlwdD5jb25zb2xlLmxvZygncHduZWQtZGF0YScpPC9zY3JpcHQ+">data</a> <a href=" JaVaScRiPt:alert('pwned')">spaced</a>` },
    { name: 'iframe object embed', html: `<iframe src="data:text/html,<script>console.log('pwned-iframe')</script>"></iframe><iframe src="${b('frame')}"></iframe><object data="${b('object')}"></object><embed src="${b('embed')}">` },
    { name: 'svg', html: `<svg onload="console.log('pwned-svg')"><script>console.log('pwned-svgscript')</script><image href="${b('svg-image')}"/><use href="${b('svg-use')}#x"/></svg>` },
    { name: 'mathml mxss', html: `<math><mtext><table><mglyph><style><img src=x onerror="console.log('pwned-mxss')"></style></mglyph></table></mtext></math>` },
    { name: 'noscript mxss', html: `<noscript><p title="</noscript><img src=x onerror=console.log('pwned-noscript')>"></noscript><p>after</p>` },
    { name: 'style attribute beacons', html: `<div style="background:url(${b('css-bg')})">bg</div><p style="background-image: u\\72l(${b('css-escaped')})">esc</p><p style="width: expression(console.log('pwned-expr'))">ie</p>` },
    { name: 'style element beacons', html: `<style>@import url(${b('import.css')}); body { background: url('${b('style-bg')}') } @font-face { font-family: x; src: url(${b('font.woff')}) } p { font-family: x }</style><p>styled</p>` },
    { name: 'meta refresh and base', html: `<meta http-equiv="refresh" content="0;url=${b('refresh')}"><base href="${beacon}/"><img src="relative.png" alt="rel"><p>base</p>` },
    { name: 'link stylesheet', html: `<link rel="stylesheet" href="${b('link.css')}"><link rel="prefetch" href="${b('prefetch')}"><p>link</p>` },
    { name: 'form', html: `<form action="${b('form')}" method="post"><input name="password" value="x"><button formaction="${b('formaction')}">go</button></form>` },
    { name: 'tracking pixel', html: `<p>newsletter</p><img src="${b('pixel.gif')}" width="1" height="1" alt=""><img srcset="${b('srcset.png')} 2x" alt="s">` },
    { name: 'media and backgrounds', html: `<video poster="${b('poster')}"><source src="${b('video.mp4')}"></video><audio src="${b('audio')}"></audio><table background="${b('table-bg')}"><tr><td background="${b('td-bg')}">t</td></tr></table>` },
    { name: 'template and xmp', html: `<template><img src=x onerror=console.log('pwned-template')></template><xmp><img src=x onerror=console.log('pwned-xmp')></xmp><p>ok</p>` },
  ];
}

/** A hostile HTML body as a whole message. */
export function hostileMessage(mail: HostileMail, to: string, n: number): string {
  return [
    'From: Mallory <mallory@evil.example>',
    `To: ${to}`,
    `Subject: Hostile ${n}: ${mail.name}`,
    `Date: Mon, 07 Dec 2026 09:${String(n).padStart(2, '0')}:00 +0000`,
    `Message-ID: <hostile.${n}@evil.example>`,
    'MIME-Version: 1.0',
    'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    mail.html,
    '',
  ].join('\r\n');
}
