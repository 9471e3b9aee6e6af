/** The capability URNs this server speaks (RFC 8620 §2, RFC 8621 §1.3, §1.3.2, §1.3.3; RFC 9425). */
export const CORE = 'urn:ietf:params:jmap:core';
export const MAIL = 'urn:ietf:params:jmap:mail';
export const SUBMISSION = 'urn:ietf:params:jmap:submission';
export const VACATION = 'urn:ietf:params:jmap:vacationresponse';
/** RFC 9425. */
export const QUOTA = 'urn:ietf:params:jmap:quota';

export const KNOWN_CAPABILITIES: readonly string[] = [CORE, MAIL, SUBMISSION, VACATION, QUOTA];
