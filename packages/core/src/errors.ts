/**
 * The one error catalog. Every error a user can see has a stable `code` (the wire `Code`), an HTTP
 * status and a message that names the field and the value. Branch on `code`, never on `instanceof`,
 * once an error has crossed a process boundary.
 */
export type ErrorCode =
  | 'InvalidParameter'
  | 'MissingParameter'
  | 'InvalidMaxItemCount'
  | 'InvalidMarker'
  | 'InvalidJobDescription'
  | 'InvalidResource.NotFound'
  | 'StateConflict'
  | 'IdempotentConflict'
  | 'MissingAuthorization'
  | 'InvalidAuthorization'
  | 'InvalidAccessKeyId.NotFound'
  | 'SignatureNonceUsed'
  | 'Forbidden.AdminOnly'
  | 'Forbidden.WrongCredential'
  | 'SignatureDoesNotMatch'
  | 'RequestTimeTooSkewed'
  | 'MissingDate'
  | 'InvalidDate'
  | 'InvalidContentMD5'
  | 'MalformedJSON'
  | 'UnsupportedOperation'
  | 'QuotaExceeded'
  | 'Worker.NotFound'
  | 'Worker.LeaseLost'
  | 'InvalidAction.NotFound'
  | 'RequestEntityTooLarge'
  | 'InternalError';

const STATUS: Record<ErrorCode, number> = {
  InvalidParameter: 400,
  MissingParameter: 400,
  InvalidMaxItemCount: 400,
  InvalidMarker: 400,
  InvalidJobDescription: 400,
  'InvalidResource.NotFound': 404,
  StateConflict: 409,
  IdempotentConflict: 409,
  MissingAuthorization: 400,
  InvalidAuthorization: 400,
  'InvalidAccessKeyId.NotFound': 403,
  SignatureNonceUsed: 403,
  'Forbidden.AdminOnly': 403,
  'Forbidden.WrongCredential': 403,
  SignatureDoesNotMatch: 400,
  RequestTimeTooSkewed: 403,
  MissingDate: 400,
  InvalidDate: 400,
  InvalidContentMD5: 400,
  MalformedJSON: 400,
  UnsupportedOperation: 400,
  QuotaExceeded: 403,
  'Worker.NotFound': 404,
  'Worker.LeaseLost': 409,
  'InvalidAction.NotFound': 404,
  RequestEntityTooLarge: 413,
  InternalError: 500,
};

export class ShoalError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Dotted path of the offending field, e.g. `DAG.Tasks.count.InstanceCount`. */
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, field?: string) {
    super(message);
    this.name = 'ShoalError';
    this.code = code;
    this.status = STATUS[code];
    this.field = field;
  }
}

export function isShoalError(err: unknown): err is ShoalError {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'ShoalError';
}

/** Renders a user value for an error message: short, JSON-ish, never multi-line. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    // Circular, or nested too deep for the stack (String() of a deep array recurses as well).
    text = Array.isArray(value)
      ? '[...]'
      : typeof value === 'object' && value !== null
        ? '{...}'
        : typeof value;
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

export function invalidParameter(field: string, value: unknown, rule: string): ShoalError {
  return new ShoalError(
    'InvalidParameter',
    `Specified parameter ${field} is not valid: ${rule}, got ${showValue(value)}.`,
    field,
  );
}

/** `detail`, when given, says what the field is for or what would do instead (a sentence). */
export function missingParameter(field: string, detail?: string): ShoalError {
  return new ShoalError(
    'MissingParameter',
    `Required parameter ${field} is missing.${detail ? ` ${detail}` : ''}`,
    field,
  );
}

export function invalidJob(field: string, value: unknown, rule: string): ShoalError {
  return new ShoalError(
    'InvalidJobDescription',
    `JobDescription field ${field} is not valid: ${rule}, got ${showValue(value)}.`,
    field,
  );
}

export function notFound(kind: string, id: string): ShoalError {
  return new ShoalError(
    'InvalidResource.NotFound',
    `Specified resource is not found: ${kind} ${showValue(id)}.`,
  );
}

/** `hint`, when given, says what to do instead (a sentence). */
export function stateConflict(
  kind: string,
  id: string,
  state: string,
  operation: string,
  hint?: string,
): ShoalError {
  return new ShoalError(
    'StateConflict',
    `User operation is invalid. The current resource state is ${state}: cannot ${operation} ${kind} ${id}.${hint ? ` ${hint}` : ''}`,
  );
}
