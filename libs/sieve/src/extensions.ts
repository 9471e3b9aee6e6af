/** The commands and tests this engine knows: their extension, tagged and positional arguments (RFC 5228 and extensions). */
export type ArgumentType = 'string' | 'strings' | 'number';

export interface TagSpec {
  arg?: ArgumentType;
  /** The tag needs this extension required. */
  extension?: string;
  /** At most one tag of a group may appear. */
  group?: string;
}

export interface CommandSpec {
  kind: 'control' | 'action' | 'test';
  extension?: string;
  tags: Record<string, TagSpec>;
  positional: ArgumentType[];
  /** How many leading positional arguments may be left out (setflag's variable name). */
  optionalLeading?: number;
  /** How many trailing positional arguments may be left out (deleteheader's value patterns). */
  optionalTrailing?: number;
  tests?: 'one' | 'list';
  block?: boolean;
  requiredGroups?: string[];
}

/** Every extension a script may `require`. editheader is offered only when the caller enables it (admin scripts). */
export const KNOWN_EXTENSIONS = [
  'fileinto',
  'reject',
  'ereject',
  'envelope',
  'body',
  'imap4flags',
  'copy',
  'vacation',
  'vacation-seconds',
  'variables',
  'relational',
  'subaddress',
  'date',
  'mailbox',
  'regex',
  'editheader',
  'duplicate',
  'include',
  'encoded-character',
  'index',
  'comparator-i;octet',
  'comparator-i;ascii-casemap',
  'comparator-i;ascii-numeric',
] as const;

export const DEFAULT_EXTENSIONS: readonly string[] = KNOWN_EXTENSIONS.filter((e) => e !== 'editheader');

const COMPARATOR: Record<string, TagSpec> = { comparator: { arg: 'string', group: 'comparator' } };
const MATCH: Record<string, TagSpec> = {
  is: { group: 'match' },
  contains: { group: 'match' },
  matches: { group: 'match' },
  regex: { group: 'match', extension: 'regex' },
  count: { group: 'match', arg: 'string', extension: 'relational' },
  value: { group: 'match', arg: 'string', extension: 'relational' },
};
const ADDRESS_PART: Record<string, TagSpec> = {
  all: { group: 'address-part' },
  localpart: { group: 'address-part' },
  domain: { group: 'address-part' },
  user: { group: 'address-part', extension: 'subaddress' },
  detail: { group: 'address-part', extension: 'subaddress' },
};
const FLAGS: Record<string, TagSpec> = { flags: { arg: 'strings', extension: 'imap4flags' } };
const ZONE: Record<string, TagSpec> = { zone: { arg: 'string', group: 'zone' } };
/** RFC 5260 §6: which occurrence of the header field, counted from the top or with :last from the bottom. */
const INDEX: Record<string, TagSpec> = { index: { arg: 'number', extension: 'index' }, last: { extension: 'index' } };

export const COMMANDS: Record<string, CommandSpec> = {
  require: { kind: 'control', tags: {}, positional: ['strings'] },
  if: { kind: 'control', tags: {}, positional: [], tests: 'one', block: true },
  elsif: { kind: 'control', tags: {}, positional: [], tests: 'one', block: true },
  else: { kind: 'control', tags: {}, positional: [], block: true },
  stop: { kind: 'control', tags: {}, positional: [] },
  keep: { kind: 'action', tags: { ...FLAGS }, positional: [] },
  discard: { kind: 'action', tags: {}, positional: [] },
  redirect: { kind: 'action', tags: { copy: { extension: 'copy' } }, positional: ['string'] },
  fileinto: {
    kind: 'action',
    extension: 'fileinto',
    tags: { copy: { extension: 'copy' }, create: { extension: 'mailbox' }, ...FLAGS },
    positional: ['string'],
  },
  reject: { kind: 'action', extension: 'reject', tags: {}, positional: ['string'] },
  ereject: { kind: 'action', extension: 'ereject', tags: {}, positional: ['string'] },
  set: {
    kind: 'action',
    extension: 'variables',
    tags: {
      lower: { group: 'case' },
      upper: { group: 'case' },
      lowerfirst: { group: 'first' },
      upperfirst: { group: 'first' },
      quotewildcard: { group: 'quote' },
      length: { group: 'length' },
    },
    positional: ['string', 'string'],
  },
  setflag: { kind: 'action', extension: 'imap4flags', tags: {}, positional: ['string', 'strings'], optionalLeading: 1 },
  addflag: { kind: 'action', extension: 'imap4flags', tags: {}, positional: ['string', 'strings'], optionalLeading: 1 },
  removeflag: { kind: 'action', extension: 'imap4flags', tags: {}, positional: ['string', 'strings'], optionalLeading: 1 },
  vacation: {
    kind: 'action',
    extension: 'vacation',
    tags: {
      days: { arg: 'number', group: 'period' },
      seconds: { arg: 'number', group: 'period', extension: 'vacation-seconds' },
      subject: { arg: 'string' },
      from: { arg: 'string' },
      addresses: { arg: 'strings' },
      mime: {},
      handle: { arg: 'string' },
    },
    positional: ['string'],
  },
  include: {
    kind: 'control',
    extension: 'include',
    tags: { personal: { group: 'location' }, global: { group: 'location' }, once: {}, optional: {} },
    positional: ['string'],
  },
  return: { kind: 'control', extension: 'include', tags: {}, positional: [] },
  global: { kind: 'control', extension: 'include', tags: {}, positional: ['strings'] },
  addheader: { kind: 'action', extension: 'editheader', tags: { last: {} }, positional: ['string', 'string'] },
  deleteheader: {
    kind: 'action',
    extension: 'editheader',
    tags: { index: { arg: 'number' }, last: {}, ...COMPARATOR, ...MATCH },
    positional: ['string', 'strings'],
    optionalTrailing: 1,
  },
};

export const TESTS: Record<string, CommandSpec> = {
  address: { kind: 'test', tags: { ...COMPARATOR, ...MATCH, ...ADDRESS_PART, ...INDEX }, positional: ['strings', 'strings'] },
  envelope: { kind: 'test', extension: 'envelope', tags: { ...COMPARATOR, ...MATCH, ...ADDRESS_PART }, positional: ['strings', 'strings'] },
  header: { kind: 'test', tags: { ...COMPARATOR, ...MATCH, ...INDEX }, positional: ['strings', 'strings'] },
  exists: { kind: 'test', tags: {}, positional: ['strings'] },
  size: { kind: 'test', tags: { over: { group: 'size' }, under: { group: 'size' } }, positional: ['number'], requiredGroups: ['size'] },
  allof: { kind: 'test', tags: {}, positional: [], tests: 'list' },
  anyof: { kind: 'test', tags: {}, positional: [], tests: 'list' },
  not: { kind: 'test', tags: {}, positional: [], tests: 'one' },
  true: { kind: 'test', tags: {}, positional: [] },
  false: { kind: 'test', tags: {}, positional: [] },
  body: {
    kind: 'test',
    extension: 'body',
    tags: { ...COMPARATOR, ...MATCH, raw: { group: 'transform' }, content: { group: 'transform', arg: 'strings' }, text: { group: 'transform' } },
    positional: ['strings'],
  },
  string: { kind: 'test', extension: 'variables', tags: { ...COMPARATOR, ...MATCH }, positional: ['strings', 'strings'] },
  hasflag: { kind: 'test', extension: 'imap4flags', tags: { ...COMPARATOR, ...MATCH }, positional: ['strings', 'strings'], optionalLeading: 1 },
  date: {
    kind: 'test',
    extension: 'date',
    tags: { ...ZONE, originalzone: { group: 'zone' }, ...COMPARATOR, ...MATCH, ...INDEX },
    positional: ['string', 'string', 'strings'],
  },
  currentdate: { kind: 'test', extension: 'date', tags: { ...ZONE, ...COMPARATOR, ...MATCH }, positional: ['string', 'strings'] },
  mailboxexists: { kind: 'test', extension: 'mailbox', tags: {}, positional: ['strings'] },
  duplicate: {
    kind: 'test',
    extension: 'duplicate',
    tags: { handle: { arg: 'string' }, header: { arg: 'string', group: 'id' }, uniqueid: { arg: 'string', group: 'id' }, seconds: { arg: 'number' }, last: {} },
    positional: [],
  },
};

export const RELATIONAL_OPERATORS = ['gt', 'ge', 'lt', 'le', 'eq', 'ne'] as const;
export const DATE_PARTS = ['year', 'month', 'day', 'date', 'julian', 'hour', 'minute', 'second', 'time', 'iso8601', 'std11', 'zone', 'weekday'] as const;
export const COMPARATORS = ['i;octet', 'i;ascii-casemap', 'i;ascii-numeric'] as const;
