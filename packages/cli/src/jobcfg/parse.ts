/**
 * A reader for the INI dialect of Python's ConfigParser, which is what `bcs sub --file job.cfg` used:
 * `[section]` headers; `key = value` or `key: value` (split at the first '=' or ':'); keys
 * case-insensitive (lower-cased); comment lines start with '#' or ';' (only at line start, so
 * `deps=split->count;count->merge` keeps its ';'); lines indented deeper than their option line
 * continue its value (joined with '\n'); `[DEFAULT]` values are inherited by every section; a repeated
 * section or option is an error. ConfigParser's `%(name)s` interpolation is not applied: values are
 * taken literally, so commands like `date +%s` work as written.
 */

export const DEFAULT_SECTION = 'DEFAULT';

/** One `[section]` with its own options (DEFAULT values not merged in). */
export interface IniSection {
  readonly name: string;
  /** Lower-cased keys, in file order. */
  readonly values: ReadonlyMap<string, string>;
  /** The line each key is set on, for messages. */
  readonly lines: ReadonlyMap<string, number>;
}

export interface IniDocument {
  /** The file's name in messages. */
  readonly source: string;
  readonly defaults: ReadonlyMap<string, string>;
  readonly defaultLines: ReadonlyMap<string, number>;
  /** The non-DEFAULT sections in file order. */
  readonly sections: readonly IniSection[];
}

/** A syntax error in a job.cfg, naming the file and line. */
export class IniSyntaxError extends Error {
  constructor(
    readonly source: string,
    readonly line: number,
    message: string,
  ) {
    super(`${source}:${line}: ${message}`);
    this.name = 'IniSyntaxError';
  }
}

const SECTION_RE = /^\[(.+)\]/;
const OPTION_RE = /^(.*?)\s*([=:])\s*(.*)$/;

/** Parses job.cfg text; `source` names the file in error messages. */
export function parseIni(text: string, source = 'job.cfg'): IniDocument {
  const defaults = new Map<string, string[]>();
  const defaultLines = new Map<string, number>();
  const sections: { name: string; values: Map<string, string[]>; lines: Map<string, number> }[] = [];
  let current: Map<string, string[]> | undefined;
  let currentLines = defaultLines;
  let currentName = '';
  let option: string | undefined;
  let optionIndent = Number.POSITIVE_INFINITY;

  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  lines.forEach((line, index) => {
    const lineNo = index + 1;
    const trimmed = line.trim();
    const isComment = trimmed.startsWith('#') || trimmed.startsWith(';');
    if (trimmed === '' || isComment) {
      // Blank lines inside a multi-line value belong to it (trailing ones are dropped at the end).
      if (trimmed === '' && current && option !== undefined) current.get(option)!.push('');
      return;
    }
    const indent = line.length - line.trimStart().length;
    if (current && option !== undefined && indent > optionIndent) {
      current.get(option)!.push(trimmed);
      return;
    }
    optionIndent = indent;
    const header = SECTION_RE.exec(trimmed);
    if (header) {
      const name = header[1]!;
      option = undefined;
      if (name === DEFAULT_SECTION) {
        current = defaults;
        currentLines = defaultLines;
      } else {
        if (sections.some((s) => s.name === name))
          throw new IniSyntaxError(source, lineNo, `section [${name}] appears twice`);
        current = new Map();
        currentLines = new Map();
        sections.push({ name, values: current, lines: currentLines });
      }
      currentName = name;
      return;
    }
    if (!current) throw new IniSyntaxError(source, lineNo, 'option before the first [section] header');
    const match = OPTION_RE.exec(trimmed);
    if (!match || match[1] === '') {
      throw new IniSyntaxError(source, lineNo, `expected "key = value", got ${JSON.stringify(trimmed)}`);
    }
    const key = match[1]!.trimEnd().toLowerCase();
    if (current.has(key))
      throw new IniSyntaxError(source, lineNo, `option "${key}" appears twice in [${currentName}]`);
    current.set(key, [match[3]!.trim()]);
    currentLines.set(key, lineNo);
    option = key;
  });

  const join = (values: Map<string, string[]>): Map<string, string> =>
    new Map([...values].map(([key, parts]) => [key, parts.join('\n').replace(/\n+$/, '')]));
  return {
    source,
    defaults: join(defaults),
    defaultLines,
    sections: sections.map((s) => ({ name: s.name, values: join(s.values), lines: s.lines })),
  };
}

/**
 * Replaces `$name` variables (options whose key starts with '$', defined in any section) in every value,
 * as bcs did. Longer names are replaced first so `$dir` never eats into `$dir2`; matching ignores case
 * because keys are lower-cased.
 */
export function substituteVariables(doc: IniDocument): IniDocument {
  const vars = new Map<string, string>();
  for (const values of [doc.defaults, ...doc.sections.map((s) => s.values)]) {
    for (const [key, value] of values) if (key.startsWith('$') && key.length > 1) vars.set(key, value);
  }
  if (vars.size === 0) return doc;
  const names = [...vars.keys()].sort((a, b) => b.length - a.length);
  const pattern = new RegExp(names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'gi');
  const apply = (values: ReadonlyMap<string, string>): Map<string, string> =>
    new Map(
      [...values].map(([key, value]) => [key, value.replace(pattern, (m) => vars.get(m.toLowerCase()) ?? m)]),
    );
  return {
    ...doc,
    defaults: apply(doc.defaults),
    sections: doc.sections.map((s) => ({ ...s, values: apply(s.values) })),
  };
}
