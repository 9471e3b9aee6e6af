/** vCard 3.0/4.0 and CSV contacts: what is read from real-world files, and what the export writes reads back the same. */
import { describe, expect, it } from 'vitest';
import { parseContactCsv, parseVCards, writeVCards } from './contact-codec';

describe('contact files', () => {
  it('reads vCard 3.0 and 4.0 cards: folded lines, escapes, groups, preferred email, N when FN is missing', () => {
    const file = [
      'BEGIN:VCARD',
      'VERSION:3.0',
      'FN:Wang\\, Fang',
      'ORG:Acme Ltd;Sales',
      'item1.EMAIL;TYPE=INTERNET:fang@old.example',
      'item2.EMAIL;TYPE=INTERNET,pref:fang@acme.example',
      'TEL;TYPE=CELL:+86 138 0000 0000',
      'NOTE:first line\\nsecond line with a long text that is folded over',
      '  two lines',
      'END:VCARD',
      'BEGIN:VCARD',
      'VERSION:4.0',
      'N:李;雷;;;',
      'EMAIL;PREF=2:lei@home.example',
      'EMAIL;PREF=1:lei@work.example',
      'TEL;VALUE=uri:tel:+86-10-5555-0100',
      'TITLE:工程师',
      'END:VCARD',
    ].join('\r\n');
    const rows = parseVCards(file);
    expect(rows).toEqual([
      {
        line: 1,
        fields: {
          displayName: 'Wang, Fang', email: 'fang@acme.example', phone: '+86 138 0000 0000', organization: 'Acme Ltd, Sales', title: '',
          notes: 'first line\nsecond line with a long text that is folded over two lines',
        },
      },
      { line: 11, fields: { displayName: '雷 李', email: 'lei@work.example', phone: '+86-10-5555-0100', organization: '', title: '工程师', notes: '' } },
    ]);
  });

  it('says which cards it cannot use and why', () => {
    const rows = parseVCards('BEGIN:VCARD\nVERSION:2.1\nFN:Old\nEND:VCARD\nBEGIN:VCARD\nVERSION:4.0\nFN:Cut\n');
    expect(rows).toEqual([
      { line: 1, error: 'vCard 2.1 is not supported; export the contacts as vCard 3.0 or 4.0' },
      { line: 5, error: 'the card has no END:VCARD line (the file is cut short?)' },
    ]);
    expect(parseVCards('name,email\nx,y@z.example\n')[0].error).toMatch(/outside BEGIN:VCARD/);
  });

  it('writes vCards of either version that read back to the same contacts, lines folded at 75 octets', () => {
    const contact = {
      id: '6f1c1a4e-0000-4000-8000-000000000001', updatedAt: new Date('2026-12-01T08:00:00Z'),
      displayName: '欧阳 晓明', email: 'xm@acme.example', phone: '+86 10 1234', organization: 'Acme; Ltd', title: '经理',
      notes: `备注, with commas; semicolons\nand ${'长'.repeat(40)}`,
    };
    for (const version of ['3.0', '4.0'] as const) {
      const text = writeVCards([contact], version);
      expect(text).toContain(`VERSION:${version}\r\n`);
      for (const line of text.split('\r\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);
      const { id: _id, updatedAt: _u, ...fields } = contact;
      expect(parseVCards(text)).toEqual([{ line: 1, fields }]);
    }
    expect(writeVCards([{ ...contact, displayName: '' }], '4.0')).toContain('FN:xm@acme.example\r\n');
  });

  it('reads CSV by its header (English, Chinese, Google-style names), or in the export order without one', () => {
    expect(parseContactCsv('\ufeff姓名,电子邮件,手机,公司,职位,备注\n张三,zs@a.example,139,甲公司,经理,"多行\n备注"\n李四,ls@a.example,,,,\n')).toEqual([
      { line: 2, fields: { displayName: '张三', email: 'zs@a.example', phone: '139', organization: '甲公司', title: '经理', notes: '多行\n备注' } },
      { line: 4, fields: { displayName: '李四', email: 'ls@a.example', phone: '', organization: '', title: '', notes: '' } },
    ]);
    expect(parseContactCsv('First Name,Last Name,E-mail Address,Company\nAda,Lovelace,ada@b.example,Engines\n')[0].fields).toMatchObject({
      displayName: 'Ada Lovelace', email: 'ada@b.example', organization: 'Engines',
    });
    expect(parseContactCsv("Bob,bob@c.example,'=1+1\n")[0].fields).toMatchObject({ displayName: 'Bob', email: 'bob@c.example', phone: '=1+1' });
    expect(parseContactCsv('a,"b\n')[0].error).toMatch(/cannot be read/);
  });
});
