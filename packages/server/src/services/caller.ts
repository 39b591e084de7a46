/** Who is making a request, as established by the signature check. */
export interface Caller {
  readonly accessKeyId: string;
  readonly ownerId: number;
  /** The user's name; '' for a key whose user row is gone. */
  readonly name: string;
  readonly admin: boolean;
}
