/*
 * Cgroups of sandboxed attempts. The runner creates one parent per hierarchy (under the agent's own
 * cgroup, see cgroups.ts) and names them on the command line; each warm sandbox gets a child of each, with
 * the limits of its attempt's instance type, and the attempt leader joins them before the command starts
 * (it writes "0" to the cgroup.procs descriptors opened here, as root, and passed into the sandbox).
 *
 * A sandbox's consecutive attempts reuse its cgroup: creating and removing one per hierarchy for every
 * attempt (mkdir, limits, a dozen control files, rmdir, and the kernel's deferred release) cost more than
 * a short command. Each attempt starts with the peak reset and the cumulative counters (CPU, OOM kills,
 * process-limit hits) taken as its zero. A cgroup is reused only when, as the next attempt comes, the
 * ended one left nothing in it but its leader (still exiting, perhaps) and the next one's (parked there
 * ahead), and at most REUSE_MAX_BYTES of page cache (which can inflate the next attempt's peak by that
 * much at most); otherwise it is removed, killing whatever is in it, and the next attempt gets a new one.
 * The process limit has room for that one exiting leader: it is not the next attempt's process.
 *
 * v1 (one mount per controller): memory, cpu, cpuacct, pids, plus optionally a cgroup v2 directory used
 * only for cgroup.kill (hybrid hosts). v2: one directory with memory, cpu and pids enabled for children.
 */
#include "spawn.h"

#include <fcntl.h>
#include <signal.h>

enum kind { K_MEMORY, K_CPU, K_CPUACCT, K_PIDS, K_KILL, K_V2 };

struct hierarchy {
  enum kind kind;
  char dir[PATH_MAX / 2]; /* with room for the attempt name and a file name in PATH_MAX */
};

static struct hierarchy hs[CG_MAX_HIERARCHIES];
static int nhs;
static int v2;

int cgroup_enabled(void) { return nhs > 0; }

static int add(enum kind kind, const char *dir) {
  if (nhs == CG_MAX_HIERARCHIES || strlen(dir) >= sizeof hs[0].dir) return -1;
  hs[nhs].kind = kind;
  snprintf(hs[nhs].dir, sizeof hs[nhs].dir, "%s", dir);
  nhs++;
  return 0;
}

int cgroup_configure(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[0], "--cgroup-v2")) {
    v2 = 1;
    return add(K_V2, argv[1]) < 0 ? -1 : 2;
  }
  if (argc < 1 || strcmp(argv[0], "--cgroup-v1")) return 0;
  int used = 1;
  static const struct {
    const char *name;
    enum kind kind;
  } names[] = {{"memory", K_MEMORY}, {"cpu", K_CPU}, {"cpuacct", K_CPUACCT}, {"pids", K_PIDS}, {"kill", K_KILL}};
  while (used < argc && strchr(argv[used], '=') && argv[used][0] != '-') {
    char *eq = strchr(argv[used], '=');
    size_t len = (size_t)(eq - argv[used]);
    int found = 0;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
      if (strlen(names[i].name) != len || strncmp(argv[used], names[i].name, len)) continue;
      if (add(names[i].kind, eq + 1) < 0) return -1;
      found = 1;
    }
    if (!found) return -1;
    used++;
  }
  return used;
}

#define REUSE_MAX_BYTES (4LL << 20)

static void path_of(char *buf, size_t size, const struct hierarchy *h, const struct cg *cg, const char *file) {
  if (file) snprintf(buf, size, "%s/%s/%s", h->dir, cg->name, file);
  else snprintf(buf, size, "%s/%s", h->dir, cg->name);
}

/* Writes a value to a control file; a file this kernel lacks is fine when `optional`. */
static int put(const struct hierarchy *h, const struct cg *cg, const char *file, const char *value, int optional,
               char *err, size_t errlen) {
  char path[PATH_MAX];
  path_of(path, sizeof path, h, cg, file);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 && optional && errno == ENOENT) return 0;
  if (fd < 0 || write_all(fd, value, strlen(value)) < 0) {
    snprintf(err, errlen, "cgroup: cannot write %s to %s: %s", value, path, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  close(fd);
  return 0;
}

static int put_number(const struct hierarchy *h, const struct cg *cg, const char *file, const char *fmt,
                      long long n, int optional, char *err, size_t errlen) {
  char v[64];
  snprintf(v, sizeof v, fmt, n);
  return put(h, cg, file, v, optional, err, errlen);
}

int cgroup_limit(struct cg *cg, const struct cg_limits *l, char *err, size_t errlen) {
  if (!cg->created) return 0;
  int memory = l->memory_bytes != cg->limits.memory_bytes, cpu = l->cpu_millis != cg->limits.cpu_millis,
      pids = l->pids != cg->limits.pids;
  /* Set to "unknown" first: a failure half-way leaves no stale belief about what is in force. */
  cg->limits = (struct cg_limits){-2, -2, -2};
  /* "max" (or -1) lifts a limit an earlier attempt of the sandbox had. */
  for (int i = 0; i < nhs; i++) {
    const struct hierarchy *h = &hs[i];
    int rc = 0;
    switch (h->kind) {
    case K_MEMORY:
      if (!memory) break;
      /* memsw (memory + swap) equal to the limit: an attempt cannot swap its way past it. Raising needs
       * memsw first, lowering the plain limit first: do both orders' first step tolerantly. */
      if (l->memory_bytes >= 0) {
        put_number(h, cg, "memory.memsw.limit_in_bytes", "%lld", l->memory_bytes, 1, err, errlen);
        rc = put_number(h, cg, "memory.limit_in_bytes", "%lld", l->memory_bytes, 0, err, errlen);
        if (!rc) rc = put_number(h, cg, "memory.memsw.limit_in_bytes", "%lld", l->memory_bytes, 1, err, errlen);
      } else {
        put(h, cg, "memory.memsw.limit_in_bytes", "-1", 1, err, errlen);
        rc = put(h, cg, "memory.limit_in_bytes", "-1", 0, err, errlen);
        if (!rc) rc = put(h, cg, "memory.memsw.limit_in_bytes", "-1", 1, err, errlen);
      }
      break;
    case K_CPU:
      if (!cpu) break;
      if (!(rc = put(h, cg, "cpu.cfs_period_us", "100000", 0, err, errlen)))
        rc = put_number(h, cg, "cpu.cfs_quota_us", "%lld", l->cpu_millis >= 0 ? l->cpu_millis * 100 : -1, 0, err,
                        errlen);
      break;
    case K_PIDS:
      if (!pids) break;
      rc = l->pids >= 0 ? put_number(h, cg, "pids.max", "%lld", l->pids + 1, 0, err, errlen)
                        : put(h, cg, "pids.max", "max", 0, err, errlen);
      break;
    case K_V2:
      if (memory) {
        rc = l->memory_bytes >= 0 ? put_number(h, cg, "memory.max", "%lld", l->memory_bytes, 0, err, errlen)
                                  : put(h, cg, "memory.max", "max", 0, err, errlen);
        if (!rc) rc = put(h, cg, "memory.swap.max", l->memory_bytes >= 0 ? "0" : "max", 1, err, errlen);
      }
      if (!rc && cpu)
        rc = l->cpu_millis >= 0 ? put_number(h, cg, "cpu.max", "%lld 100000", l->cpu_millis * 100, 0, err, errlen)
                                : put(h, cg, "cpu.max", "max 100000", 0, err, errlen);
      if (!rc && pids)
        rc = l->pids >= 0 ? put_number(h, cg, "pids.max", "%lld", l->pids + 1, 0, err, errlen)
                          : put(h, cg, "pids.max", "max", 0, err, errlen);
      break;
    default:
      break;
    }
    if (rc < 0) return -1;
  }
  cg->limits = *l;
  return 0;
}

/* Opens a control file to keep; -1 when this host has none. */
static int keep(const struct hierarchy *h, const struct cg *cg, const char *file, int flags) {
  char path[PATH_MAX];
  path_of(path, sizeof path, h, cg, file);
  int fd = open(path, flags | O_CLOEXEC);
  if (fd < 0 && (flags & O_RDWR)) fd = open(path, O_RDONLY | O_CLOEXEC);
  return fd;
}

static void keep_files(struct cg *cg) {
  for (int i = 0; i < nhs; i++) {
    const struct hierarchy *h = &hs[i];
    int *f = cg->files;
    switch (h->kind) {
    case K_CPUACCT:
      f[CG_CPU_USAGE] = keep(h, cg, "cpuacct.usage", O_RDONLY);
      break;
    case K_MEMORY:
      f[CG_PEAK] = keep(h, cg, "memory.max_usage_in_bytes", O_RDWR);
      f[CG_CURRENT] = keep(h, cg, "memory.usage_in_bytes", O_RDONLY);
      f[CG_OOM] = keep(h, cg, "memory.oom_control", O_RDONLY);
      break;
    case K_PIDS:
      f[CG_PIDS_EVENTS] = keep(h, cg, "pids.events", O_RDONLY);
      f[CG_PIDS_CURRENT] = keep(h, cg, "pids.current", O_RDONLY);
      break;
    case K_V2:
      f[CG_CPU_USAGE] = keep(h, cg, "cpu.stat", O_RDONLY);
      /* Linux 6.12+: a write resets the peak as read through this descriptor. */
      f[CG_PEAK] = keep(h, cg, "memory.peak", O_RDWR);
      f[CG_CURRENT] = keep(h, cg, "memory.current", O_RDONLY);
      f[CG_OOM] = keep(h, cg, "memory.events", O_RDONLY);
      f[CG_PIDS_EVENTS] = keep(h, cg, "pids.events", O_RDONLY);
      f[CG_PIDS_CURRENT] = keep(h, cg, "pids.current", O_RDONLY);
      break;
    default:
      break;
    }
  }
}

static int reset_peak(const struct cg *cg) {
  int fd = cg->files[CG_PEAK];
  if (fd < 0) return 1; /* no peak measured: nothing to carry over */
  const char *value = v2 ? "reset" : "0";
  return pwrite(fd, value, strlen(value), 0) == (ssize_t)strlen(value);
}

int cgroup_create(struct cg *cg, const char *name, char *err, size_t errlen) {
  memset(cg, 0, sizeof *cg);
  for (int i = 0; i < CG_NFILES; i++) cg->files[i] = -1;
  cg->limits = (struct cg_limits){-2, -2, -2};
  if (!nhs) return 0;
  if (!*name || strlen(name) >= sizeof cg->name || strchr(name, '/') || name[0] == '.') {
    snprintf(err, errlen, "cgroup: invalid name %s", name);
    return -1;
  }
  snprintf(cg->name, sizeof cg->name, "%s", name);
  char path[PATH_MAX];
  for (int i = 0; i < nhs; i++) {
    path_of(path, sizeof path, &hs[i], cg, NULL);
    if (mkdir(path, 0755) < 0 && errno != EEXIST) {
      snprintf(err, errlen, "cgroup: cannot create %s: %s", path, strerror(errno));
      goto fail;
    }
    cg->created = 1;
  }
  for (int i = 0; i < nhs; i++) {
    path_of(path, sizeof path, &hs[i], cg, "cgroup.procs");
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      snprintf(err, errlen, "cgroup: cannot open %s: %s", path, strerror(errno));
      goto fail;
    }
    cg->procs[cg->nprocs++] = fd;
  }
  keep_files(cg);
  cg->peak_resets = reset_peak(cg);
  return 0;
fail:
  for (int tries = 0; tries < 100 && cgroup_remove(cg) < 0; tries++) usleep(1000); /* nothing joined it */
  return -1;
}

/* Set when a kept control file could not be read: counters taken then are not to be trusted. */
static int unreadable;

/* The number after `key` in a flat-keyed control file ("key value" lines), or -1. */
static long long keyed(int fd, const char *key) {
  char buf[4096];
  if (fd < 0) return -1;
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return unreadable = 1, -1;
  buf[n] = '\0';
  size_t klen = strlen(key);
  for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    if (!strncmp(line, key, klen) && line[klen] == ' ') return strtoll(line + klen + 1, NULL, 10);
  }
  return -1;
}

static long long single(int fd) {
  char buf[64];
  if (fd < 0) return -1;
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return unreadable = 1, -1;
  buf[n] = '\0';
  return strtoll(buf, NULL, 10);
}

/* The cumulative counters (and the peak since the last reset) as they stand. */
static void counters(const struct cg *cg, struct cg_usage *u) {
  const int *f = cg->files;
  if (v2) {
    u->cpu_us = keyed(f[CG_CPU_USAGE], "usage_usec");
    u->oom_kills = keyed(f[CG_OOM], "oom_kill");
  } else {
    long long ns = single(f[CG_CPU_USAGE]);
    u->cpu_us = ns >= 0 ? ns / 1000 : -1;
    u->oom_kills = keyed(f[CG_OOM], "oom_kill");
  }
  u->pids_hits = keyed(f[CG_PIDS_EVENTS], "max");
  u->peak_bytes = single(f[CG_PEAK]);
  if (u->peak_bytes < 0) u->peak_bytes = single(f[CG_CURRENT]);
}

int cgroup_begin(struct cg *cg) {
  if (!cg->created) return 0;
  unreadable = 0;
  int reset = reset_peak(cg);
  counters(cg, &cg->base);
  return reset && !unreadable ? 0 : -1;
}

/* Since the attempt began; a counter unread then (only ever in a new cgroup: see prepare_cgroup in
 * spawn-sandbox.c) started at zero. */
static long long since(long long now, long long base) { return now < 0 ? -1 : base < 0 ? now : now - base; }

void cgroup_usage(const struct cg *cg, struct cg_usage *u) {
  u->cpu_us = u->peak_bytes = u->oom_kills = u->pids_hits = -1;
  if (!cg->created) return;
  struct cg_usage now;
  counters(cg, &now);
  u->cpu_us = since(now.cpu_us, cg->base.cpu_us);
  u->oom_kills = since(now.oom_kills, cg->base.oom_kills);
  u->pids_hits = since(now.pids_hits, cg->base.pids_hits);
  u->peak_bytes = now.peak_bytes;
}

long long cgroup_pids_hits(const struct cg *cg) {
  if (!cg->created) return -1;
  return since(keyed(cg->files[CG_PIDS_EVENTS], "max"), cg->base.pids_hits);
}

int cgroup_reusable(const struct cg *cg) {
  if (!cg->created || !cg->peak_resets) return 0;
  unreadable = 0;
  long long procs = single(cg->files[CG_PIDS_CURRENT]), bytes = single(cg->files[CG_CURRENT]);
  /* At most the ended attempt's leader, which reaped every other process of it before it reported, and
   * the next attempt's leader, which init parks in the same cgroup as soon as the attempt ended. (A
   * file this host lacks tells nothing; one that cannot be read means no reuse.) */
  return !unreadable && procs <= 2 && bytes <= REUSE_MAX_BYTES;
}

/* SIGKILL to every process listed in a cgroup.procs; how many were listed. */
static int kill_listed(const struct hierarchy *h, const struct cg *cg) {
  char path[PATH_MAX], buf[8192];
  path_of(path, sizeof path, h, cg, "cgroup.procs");
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  int count = 0;
  for (char *p = buf; *p;) {
    char *end;
    long pid = strtol(p, &end, 10);
    if (end == p) break;
    if (pid > 0) kill((pid_t)pid, SIGKILL), count++;
    p = end;
    while (*p == '\n') p++;
  }
  return count;
}

void cgroup_kill(const struct cg *cg) {
  if (!cg->created) return;
  char err[16];
  for (int i = 0; i < nhs; i++)
    if (hs[i].kind == K_KILL || hs[i].kind == K_V2) put(&hs[i], cg, "cgroup.kill", "1", 1, err, sizeof err);
  /* Also by pid (kernels without cgroup.kill): killing the attempt leader, pid 1 of the attempt's
   * namespace, takes every other process of the attempt with it. */
  for (int i = 0; i < nhs; i++)
    if (hs[i].kind == K_PIDS || hs[i].kind == K_MEMORY || hs[i].kind == K_V2) {
      kill_listed(&hs[i], cg);
      break;
    }
}

int cgroup_remove(struct cg *cg) {
  if (!cg->created) return 0;
  for (int i = 0; i < cg->nprocs; i++) close(cg->procs[i]);
  cg->nprocs = 0;
  for (int i = 0; i < CG_NFILES; i++) {
    if (cg->files[i] >= 0) close(cg->files[i]);
    cg->files[i] = -1;
  }
  char path[PATH_MAX];
  int busy = 0;
  for (int i = 0; i < nhs; i++) {
    path_of(path, sizeof path, &hs[i], cg, NULL);
    if (rmdir(path) < 0 && errno != ENOENT) busy = 1;
  }
  if (busy) {
    cgroup_kill(cg);
    return -1;
  }
  cg->created = 0;
  return 0;
}
