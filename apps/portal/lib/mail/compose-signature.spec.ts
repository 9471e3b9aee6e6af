import { describe, expect, it } from 'vitest';
import { defaultSignature, swapSignature, withSignature } from './compose-signature';

const QUOTE = '\n\nOn Monday Bob wrote:\n> hello';

describe('compose signatures', () => {
  it('puts the default signature before the quote of a reply', () => {
    expect(withSignature(QUOTE, '-- \nAlice')).toBe(`\n\n-- \nAlice${QUOTE}`);
    expect(withSignature('', '')).toBe('');
  });

  it('reads the default of the signatures, else textSignature', () => {
    const signatures = [
      { name: 'a', textSignature: 'A', htmlSignature: '', isDefault: false },
      { name: 'b', textSignature: 'B', htmlSignature: '', isDefault: true },
    ];
    expect(defaultSignature({ id: 'I1', name: '', email: 'a@x.test', textSignature: 'B', signatures })).toBe('B');
    expect(defaultSignature({ id: 'I1', name: '', email: 'a@x.test', textSignature: 'T' })).toBe('T');
    expect(defaultSignature(undefined)).toBe('');
  });

  it('swaps the inserted block, keeps what the user typed, and never rewrites an edited signature', () => {
    const typed = `Hi Bob$1 $&,\n\n-- \nAlice${QUOTE}`;
    expect(swapSignature(typed, '-- \nAlice', '-- \n销售部', QUOTE)).toBe(`Hi Bob$1 $&,\n\n-- \n销售部${QUOTE}`);
    expect(swapSignature(typed, '-- \nAlice', '', QUOTE)).toBe(`Hi Bob$1 $&,${QUOTE}`);
    // No signature before: the new one goes before the quote, or at the end of a new message.
    expect(swapSignature(`Hi${QUOTE}`, '', 'S', QUOTE)).toBe(`Hi\n\nS${QUOTE}`);
    expect(swapSignature('Hi', '', 'S', '')).toBe('Hi\n\nS');
    // The user changed the signature: it stays, and the new one is added.
    expect(swapSignature('Hi\n\n-- \nAlicia', '-- \nAlice', 'S', '')).toBe('Hi\n\n-- \nAlicia\n\nS');
  });
});
