/*
 * Cgroups of sandboxed attempts. The runner creates one parent per hierarchy (under the agent's own
 * cgroup, see cgroups.ts) and names them on the command line; each attempt gets a child of each, with the
 * limits of its instance type, and the attempt leader joins them before the command starts (it writes "0"
 * to the cgroup.procs descriptors opened here, as root, and passed into the sandbox).
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

static int limit(const struct hierarchy *h, const struct cg *cg, const struct cg_limits *l, char *err, size_t errlen) {
  char v[64];
  switch (h->kind) {
  case K_MEMORY:
    if (l->memory_bytes < 0) return 0;
    snprintf(v, sizeof v, "%lld", l->memory_bytes);
    /* memsw (memory + swap) equal to the limit: an attempt cannot swap its way past it */
    if (put(h, cg, "memory.limit_in_bytes", v, 0, err, errlen) < 0) return -1;
    return put(h, cg, "memory.memsw.limit_in_bytes", v, 1, err, errlen);
  case K_CPU:
    if (l->cpu_millis < 0) return 0;
    snprintf(v, sizeof v, "%lld", l->cpu_millis * 100);
    if (put(h, cg, "cpu.cfs_period_us", "100000", 0, err, errlen) < 0) return -1;
    return put(h, cg, "cpu.cfs_quota_us", v, 0, err, errlen);
  case K_PIDS:
    if (l->pids < 0) return 0;
    snprintf(v, sizeof v, "%lld", l->pids);
    return put(h, cg, "pids.max", v, 0, err, errlen);
  case K_V2:
    if (l->memory_bytes >= 0) {
      snprintf(v, sizeof v, "%lld", l->memory_bytes);
      if (put(h, cg, "memory.max", v, 0, err, errlen) < 0) return -1;
      if (put(h, cg, "memory.swap.max", "0", 1, err, errlen) < 0) return -1;
    }
    if (l->cpu_millis >= 0) {
      snprintf(v, sizeof v, "%lld 100000", l->cpu_millis * 100);
      if (put(h, cg, "cpu.max", v, 0, err, errlen) < 0) return -1;
    }
    if (l->pids >= 0) {
      snprintf(v, sizeof v, "%lld", l->pids);
      if (put(h, cg, "pids.max", v, 0, err, errlen) < 0) return -1;
    }
    return 0;
  default:
    return 0;
  }
}

int cgroup_create(struct cg *cg, const char *name, const struct cg_limits *limits, int *fds, int *nfds, char *err,
                  size_t errlen) {
  memset(cg, 0, sizeof *cg);
  *nfds = 0;
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
  for (int i = 0; i < nhs; i++)
    if (limit(&hs[i], cg, limits, err, errlen) < 0) goto fail;
  for (int i = 0; i < nhs; i++) {
    path_of(path, sizeof path, &hs[i], cg, "cgroup.procs");
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      snprintf(err, errlen, "cgroup: cannot open %s: %s", path, strerror(errno));
      goto fail;
    }
    fds[(*nfds)++] = fd;
  }
  return 0;
fail:
  for (int i = 0; i < *nfds; i++) close(fds[i]);
  *nfds = 0;
  cgroup_remove(cg);
  return -1;
}

/* The number after `key` in a flat-keyed control file ("key value" lines), or -1. */
static long long keyed(const struct hierarchy *h, const struct cg *cg, const char *file, const char *key) {
  char path[PATH_MAX], buf[4096];
  path_of(path, sizeof path, h, cg, file);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  size_t klen = strlen(key);
  for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    if (!strncmp(line, key, klen) && line[klen] == ' ') return strtoll(line + klen + 1, NULL, 10);
  }
  return -1;
}

static long long single(const struct hierarchy *h, const struct cg *cg, const char *file) {
  char path[PATH_MAX], buf[64];
  path_of(path, sizeof path, h, cg, file);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  return strtoll(buf, NULL, 10);
}

void cgroup_usage(const struct cg *cg, struct cg_usage *u) {
  u->cpu_us = u->peak_bytes = u->oom_kills = u->pids_hits = -1;
  if (!cg->created) return;
  for (int i = 0; i < nhs; i++) {
    const struct hierarchy *h = &hs[i];
    long long v;
    switch (h->kind) {
    case K_CPUACCT:
      if ((v = single(h, cg, "cpuacct.usage")) >= 0) u->cpu_us = v / 1000;
      break;
    case K_MEMORY:
      u->peak_bytes = single(h, cg, "memory.max_usage_in_bytes");
      u->oom_kills = keyed(h, cg, "memory.oom_control", "oom_kill");
      break;
    case K_PIDS:
      u->pids_hits = keyed(h, cg, "pids.events", "max");
      break;
    case K_V2:
      u->cpu_us = keyed(h, cg, "cpu.stat", "usage_usec");
      if ((u->peak_bytes = single(h, cg, "memory.peak")) < 0) u->peak_bytes = single(h, cg, "memory.current");
      u->oom_kills = keyed(h, cg, "memory.events", "oom_kill");
      u->pids_hits = keyed(h, cg, "pids.events", "max");
      break;
    default:
      break;
    }
  }
}

long long cgroup_pids_hits(const struct cg *cg) {
  if (!cg->created) return -1;
  for (int i = 0; i < nhs; i++)
    if (hs[i].kind == K_PIDS || hs[i].kind == K_V2) return keyed(&hs[i], cg, "pids.events", "max");
  return -1;
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
