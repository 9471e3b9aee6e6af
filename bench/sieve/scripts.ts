/**
 * The benchmark's Sieve scripts: a 50-rule global script and a 20-rule user script of the kinds the seed's rule form
 * writes (sender, recipient, subject, size, header tests; file into a folder, flag, stop), none of which matches the
 * benchmark's messages, so every rule is tested and the message goes on to INBOX, the costly path.
 */
const DOMAINS = ['spam.example', 'casino.example', 'pills.example', 'lottery.example', 'phish.example'];

export function globalScript(rules = 50): string {
  const lines = ['require ["fileinto", "imap4flags", "envelope", "relational", "comparator-i;ascii-numeric", "regex"];'];
  for (let i = 0; i < rules; i++) {
    const d = DOMAINS[i % DOMAINS.length];
    switch (i % 5) {
      case 0: lines.push(`if address :domain :is "from" "r${i}.${d}" { fileinto "Junk"; stop; }`); break;
      case 1: lines.push(`if header :contains "subject" ["win big ${i}", "free ${i} offer"] { addflag "$Junk"; fileinto "Junk"; stop; }`); break;
      case 2: lines.push(`if envelope :domain :is "from" "e${i}.${d}" { discard; stop; }`); break;
      case 3: lines.push(`if header :value "gt" :comparator "i;ascii-numeric" "x-spam-score" "${10 + i}" { fileinto "Junk"; stop; }`); break;
      default: lines.push(`if header :regex "x-mailer" "^bulk-mailer-${i}(\\\\.[0-9]+)?$" { fileinto "Junk"; stop; }`);
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}

export function userScript(rules = 20): string {
  const lines = ['require ["fileinto", "imap4flags", "mailbox"];'];
  for (let i = 0; i < rules; i++) {
    switch (i % 4) {
      case 0: lines.push(`if address :is "from" "friend${i}@family.example" { fileinto :create "Family"; }`); break;
      case 1: lines.push(`if header :contains "subject" "invoice ${i}" { addflag "\\\\Flagged"; fileinto :create "Invoices"; }`); break;
      case 2: lines.push(`if size :over ${50 + i}M { fileinto :create "Large"; }`); break;
      default: lines.push(`if allof (header :contains "list-id" "list${i}.example", not exists "x-important") { fileinto :create "Lists"; }`);
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}
