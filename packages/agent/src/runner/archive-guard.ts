/**
 * Decides whether an archive entry may be written under the extraction root. A package is user input:
 * an entry must not name an absolute path, climb out with `..`, write through a symlink, or create a link
 * that resolves outside the root. The guard is lexical (no I/O): because the working directory is fresh and
 * every symlink the archive makes is checked here, the lexical view of the tree matches the real one as
 * long as no later entry turns a directory that an earlier link's `..` relies on into a symlink (refused).
 * The finished tree is still checked on disk afterwards (package.ts): this guard only refuses early.
 */
export class ArchiveGuard {
  private readonly symlinks = new Set<string>();
  /**
   * Directories that an earlier symlink with `..` in its target passes through, and the symlink: if one
   * of them became a symlink, the `..` would climb from that link's target instead (`s -> y/x/../..`
   * followed by `y/x -> ..` resolves above the root), so it must stay a directory.
   */
  private readonly reliedOn = new Map<string, string>();

  /**
   * Whether a directory entry names the extraction root itself (`./`, or `/` as Python's tarfile writes
   * for arcname ''). Such entries are skipped: they would only change the working directory's own mode.
   */
  isRoot(name: string): boolean {
    return /^[/.]*$/.test(name) && !name.split('/').includes('..');
  }

  /** The entry's normalised relative path ('' for the root itself); throws Error saying why it is refused. */
  entryPath(name: string): string {
    const rel = this.relative(name, 'entry');
    if (this.symlinks.has(rel))
      throw new Error(`entry ${JSON.stringify(name)} would replace a symlink made earlier in the archive`);
    this.refuseThroughSymlink(rel.split('/'), name);
    return rel;
  }

  /** Checks a symlink entry (already accepted by entryPath) and remembers it. */
  symlink(entry: string, target: string): void {
    const rel = this.relative(entry, 'entry');
    if (target === '' || target.includes('\0'))
      throw new Error(`symlink ${JSON.stringify(entry)} has an empty or invalid target`);
    const earlier = this.reliedOn.get(rel);
    if (earlier !== undefined) {
      throw new Error(
        `symlink ${JSON.stringify(entry)} would change where the earlier symlink ${JSON.stringify(earlier)} points`,
      );
    }
    if (target.startsWith('/')) {
      throw new Error(
        `symlink ${JSON.stringify(entry)} points to the absolute path ${JSON.stringify(target)} outside the package`,
      );
    }
    const stack = rel.split('/').slice(0, -1);
    const passed = stack.map((_, i) => stack.slice(0, i + 1).join('/'));
    let crossedSymlink = false;
    for (const part of target.split('/')) {
      if (part === '' || part === '.') continue;
      if (stack.length > 0) passed.push(stack.join('/'));
      if (part === '..') {
        // `..` after a symlink climbs from the symlink's real target, which the lexical view cannot see.
        if (crossedSymlink)
          throw new Error(
            `symlink ${JSON.stringify(entry)} -> ${JSON.stringify(target)} climbs out of another symlink`,
          );
        if (stack.length === 0)
          throw new Error(
            `symlink ${JSON.stringify(entry)} -> ${JSON.stringify(target)} points outside the package`,
          );
        stack.pop();
      } else {
        stack.push(part);
        if (this.symlinks.has(stack.join('/'))) crossedSymlink = true;
      }
    }
    // Without `..` the target only descends, and every link it may cross is checked on its own.
    if (target.split('/').includes('..')) for (const dir of passed) this.reliedOn.set(dir, entry);
    this.symlinks.add(rel);
  }

  /** Checks a hard link entry: its target is an archive path, and must be a plain entry inside the root. */
  hardlink(entry: string, target: string): void {
    const rel = this.relative(target, `hard link target of ${JSON.stringify(entry)}`);
    if (rel === '' || this.symlinks.has(rel)) {
      throw new Error(
        `hard link ${JSON.stringify(entry)} -> ${JSON.stringify(target)} must point to a regular file of the package`,
      );
    }
    this.refuseThroughSymlink(rel.split('/'), target);
  }

  private relative(name: string, what: string): string {
    if (name.includes('\0')) throw new Error(`${what} name contains a NUL character`);
    if (name.startsWith('/') || /^[a-zA-Z]:[\\/]/.test(name)) {
      throw new Error(`${what} ${JSON.stringify(name)} is an absolute path`);
    }
    const parts = name.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.includes('..')) throw new Error(`${what} ${JSON.stringify(name)} contains '..'`);
    return parts.join('/');
  }

  private refuseThroughSymlink(parts: string[], name: string): void {
    for (let i = 1; i < parts.length; i++) {
      if (this.symlinks.has(parts.slice(0, i).join('/'))) {
        throw new Error(
          `entry ${JSON.stringify(name)} goes through the symlink ${JSON.stringify(parts.slice(0, i).join('/'))}`,
        );
      }
    }
  }
}
