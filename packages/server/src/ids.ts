import { randomBytes } from 'node:crypto';

/** Job ids as Alibaba shows them (`job-` + 32 upper-case hex), time-ordered so they sort by creation. */
export function newJobId(nowUs: number): string {
  const time = Math.floor(nowUs / 1000)
    .toString(16)
    .toUpperCase()
    .padStart(12, '0');
  return `job-${time}${randomBytes(10).toString('hex').toUpperCase()}`;
}

export function newRequestId(): string {
  const hex = randomBytes(16).toString('hex').toUpperCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Image ids: `img-` and 20 random lower-case letters and digits. */
export function newImageId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return `img-${[...randomBytes(20)].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

/** Cluster ids as Alibaba shows them: `cls-` and 22 random lower-case letters and digits. */
export function newClusterId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return `cls-${[...randomBytes(22)].map((b) => alphabet[b % alphabet.length]).join('')}`;
}
