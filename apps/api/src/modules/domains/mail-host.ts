/** The host name a domain's clients and other servers reach: its HELO name when set, else `mail.<domain>`. */
export const mailHostOf = (domain: string, heloName: string | null): string => heloName ?? `mail.${domain}`;
