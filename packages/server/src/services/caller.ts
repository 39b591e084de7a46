/** Who is making a request, as established by the signature check. */
export interface Caller {
  readonly accessKeyId: string;
  readonly ownerId: number;
  readonly admin: boolean;
}
