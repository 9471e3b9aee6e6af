'use client';
/**
 * A message's body: sanitised HTML (made on the portal's server) in a sandboxed iframe that may run no script, submit
 * no form and reach nothing of the portal; plain text with its links made clickable.
 */
import { Fragment } from 'react';
import { useTranslations } from 'next-intl';

const LINK = /(https?:\/\/[^\s<>"')\]]+|mailto:[^\s<>"')\]]+)/gi;

export function PlainText({ text }: { text: string }) {
  const parts = text.split(LINK);
  return (
    <pre className="wm-plain" data-testid="mail-text">
      {parts.map((p, i) =>
        i % 2 === 1 ? (
          <a key={i} href={p} target="_blank" rel="noopener noreferrer nofollow">
            {p}
          </a>
        ) : (
          <Fragment key={i}>{p}</Fragment>
        ),
      )}
    </pre>
  );
}

export function HtmlFrame({ html, subject }: { html: string; subject: string }) {
  const t = useTranslations('mail.reader');
  return (
    <iframe
      className="wm-frame"
      data-testid="mail-frame"
      title={t('bodyFrame', { subject })}
      // No allow-scripts, allow-forms or allow-same-origin: the message runs nothing and reaches nothing of the
      // portal; links open in a new tab, outside the sandbox.
      sandbox="allow-popups allow-popups-to-escape-sandbox"
      referrerPolicy="no-referrer"
      srcDoc={html}
    />
  );
}
