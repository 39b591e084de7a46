/**
 * A byte progress bar for uploads and downloads: redrawn in place on a terminal, silent on a pipe
 * (the caller prints one summary line instead, so logs stay readable).
 */

/** `1.5 MB`, `300 KB`, `12 B`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/**
 * `label [########------------]  40%  1.2 MB/3.0 MB`
 *
 * @example barLine('up', 50, 100, 10) // 'up [#####-----]  50%  50 B/100 B'
 */
export function barLine(label: string, loaded: number, total: number | undefined, width = 24): string {
  if (!total) return `${label} ${formatBytes(loaded)}`;
  const ratio = Math.min(1, loaded / total);
  const filled = Math.round(ratio * width);
  const percent = `${Math.floor(ratio * 100)}%`.padStart(4);
  return `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${percent}  ${formatBytes(loaded)}/${formatBytes(total)}`;
}

/** Draws a bar on a terminal; `done()` ends the line. */
export class ByteBar {
  private drawn = false;

  constructor(
    private readonly write: (text: string) => void,
    private readonly isTTY: boolean,
    private readonly label: string,
  ) {}

  update(loaded: number, total: number | undefined): void {
    if (!this.isTTY) return;
    this.write(`\r\x1b[2K${barLine(this.label, loaded, total)}`);
    this.drawn = true;
  }

  done(): void {
    if (this.drawn) this.write('\n');
    this.drawn = false;
  }
}
