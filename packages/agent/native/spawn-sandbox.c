/*
 * Warm sandboxes: a bubblewrap sandbox kept running with shoal-sandbox-init inside, which runs one attempt
 * after another, each in fresh namespaces (see shoal-sandbox-init.c), in the sandbox's cgroup (reused
 * while attempts leave it clean, see spawn-cgroup.c). Starting bwrap costs milliseconds; an attempt in a
 * warm sandbox costs a clone and a few mounts.
 *
 * bubblewrap runs as an unprivileged uid and resolves every source path as that uid, so a data directory
 * under a 0700 directory (as under /root) could not be bound. The helper, still root, therefore first
 * enters a private mount namespace (a slave of the host's, so host mounts still arrive), opens each path
 * to expose, mounts a small tmpfs on /tmp there and binds each path at /tmp/shoal-<i> through its
 * descriptor. Only then does it drop to the sandbox uid and exec bwrap, whose arguments name those
 * paths. Nothing on the host is made readable by anyone, and nothing of this is visible outside.
 *
 * Records (after the kind):
 *   O sid uid gid errlog bwrap nexpose expose... nargs args...    open a sandbox
 *   R id sid stdout stderr cgroup-name memory-bytes cpu-millis pids <init request bytes>
 *   C sid                                                          close a sandbox
 * Replies: "O sid pid" ready, "D sid code signal" ended; per attempt "P id 0", "E id errno", "F id text",
 * "L id text" (lost with its sandbox), "X id code signal cpu-us peak-bytes oom-kills pids-hits".
 */
#include "spawn.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <stdint.h>

#define EXPOSE_ROOT "/tmp"
#define MAX_SANDBOXES 256
#define MAX_RUNS 1024
#define BUF_BYTES (SHOAL_MAX_RECORD + 64)

struct sandbox {
  char id[32];
  pid_t pid; /* bwrap; 0 when the slot is free */
  int ctl;   /* -1 once closed */
  int ready;
  struct cg cg; /* its attempts' cgroup, created with the first one that needs it */
  int cg_dirty;  /* killed through: a leader parked for the next attempt may have died with it */
};

struct run {
  char id[32];
  int sandbox; /* index, -1 when the slot is free */
  int has_cg;  /* runs in its sandbox's cgroup */
  int started, killed_for_pids;
};

static struct sandbox sandboxes[MAX_SANDBOXES];
static struct run runs[MAX_RUNS];
static int runs_ready;
/* Cgroups given up (not reusable, or their sandbox ended), removed once their processes are gone. */
static struct cg retired[MAX_RUNS];

static void init_runs(void) {
  if (runs_ready) return;
  for (int i = 0; i < MAX_RUNS; i++) runs[i].sandbox = -1;
  runs_ready = 1;
}

static struct sandbox *find_sandbox(const char *id) {
  for (int i = 0; i < MAX_SANDBOXES; i++)
    if (sandboxes[i].pid && !strcmp(sandboxes[i].id, id)) return &sandboxes[i];
  return NULL;
}

static struct run *find_run(const char *id) {
  init_runs();
  for (int i = 0; i < MAX_RUNS; i++)
    if (runs[i].sandbox >= 0 && !strcmp(runs[i].id, id)) return &runs[i];
  return NULL;
}

static int valid_id(const char *id) { return id && *id && strlen(id) < 32 && !strpbrk(id, " \n"); }

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#define SHOAL_MOUNT_ATTR_RDONLY 0x00000001
#define SHOAL_MOUNT_ATTR_IDMAP 0x00100000

struct shoal_mount_attr {
  uint64_t attr_set, attr_clr, propagation, userns_fd;
};

/*
 * A user namespace mapping uid and gid 0 to the sandbox's host uid, for idmapped mounts: files the host's
 * root owns then belong to the sandbox's own root. Its holder process is released at once; the
 * namespace lives on through the returned descriptor.
 */
static int userns_of(long uid, long gid) {
  int go[2];
  if (pipe2(go, O_CLOEXEC) < 0) return -1;
  pid_t child = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);
  if (child < 0) return -1;
  if (child == 0) {
    char c;
    close(go[1]);
    while (read(go[0], &c, 1) < 0 && errno == EINTR) {
    }
    _exit(0);
  }
  close(go[0]);
  char path[64], map[64];
  int ok = 1;
  const char *files[] = {"uid_map", "gid_map"};
  long ids[] = {uid, gid};
  for (int i = 0; i < 2 && ok; i++) {
    snprintf(path, sizeof path, "/proc/%d/%s", (int)child, files[i]);
    int n = snprintf(map, sizeof map, "0 %ld 1\n", ids[i]);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    ok = fd >= 0 && write(fd, map, (size_t)n) == n;
    if (fd >= 0) close(fd);
  }
  snprintf(path, sizeof path, "/proc/%d/ns/user", (int)child);
  int ns = ok ? open(path, O_RDONLY | O_CLOEXEC) : -1;
  int e = errno;
  close(go[1]);
  waitpid(child, NULL, 0);
  errno = e;
  return ns;
}

/*
 * Opens a host directory a task mounts without following any link: the agent checked its real path, and
 * a user who can write inside the allowed directory must not swap a component for a link between that
 * check and this open.
 */
static int open_no_links(const char *path) {
  struct {
    uint64_t flags, mode, resolve;
  } how = {.flags = O_PATH | O_CLOEXEC | O_DIRECTORY, .resolve = 0x04 /* RESOLVE_NO_SYMLINKS */};
#ifdef SYS_openat2
  return (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
#else
  (void)how;
  (void)path;
  return errno = ENOSYS, -1;
#endif
}

/* Binds `source` at `target` read-only, with its files' root ownership mapped to the sandbox uid. */
static int idmapped_bind(const char *source, const char *target, int userns) {
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, source, OPEN_TREE_CLONE | O_CLOEXEC | AT_RECURSIVE);
  if (tree < 0) return -1;
  struct shoal_mount_attr attr = {.attr_set = SHOAL_MOUNT_ATTR_IDMAP | SHOAL_MOUNT_ATTR_RDONLY,
                                  .userns_fd = (uint64_t)userns};
  int rc = (int)syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr);
  if (rc == 0) rc = (int)syscall(SYS_move_mount, tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH);
  int e = errno;
  close(tree);
  errno = e;
  return rc;
}

/* In the forked child: expose the paths, drop to the sandbox user, exec bwrap. Never returns. */
static void __attribute__((noreturn)) exec_bwrap(int ctl, long uid, long gid, const char *errlog, const char *bwrap,
                                                 char **expose, char **args) {
  sigset_t none;
  sigemptyset(&none);
  for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
  sigprocmask(SIG_SETMASK, &none, NULL);
  int log = open(errlog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log < 0 || dup2(log, 2) < 0 || dup2(log, 1) < 0) _exit(126);
  int null = open("/dev/null", O_RDONLY);
  if (null < 0 || dup2(null, 0) < 0) _exit(126);
  if (setsid() < 0) _exit(126);
#define FAIL(what, path)                                                                                         \
  do {                                                                                                           \
    dprintf(2, "shoal-spawn: %s %s: %s\n", what, path, strerror(errno));                                         \
    _exit(126);                                                                                                  \
  } while (0)
  /* An unprivileged agent runs bwrap as itself, on paths it can walk: nothing to expose or drop. */
  int privileged = geteuid() == 0;
  int n = 0;
  while (expose[n]) n++;
  if (!privileged && n > 0) FAIL("exposing paths needs root:", expose[0]);
  if (privileged && unshare(CLONE_NEWNS) < 0) FAIL("unshare", "mount namespace");
  if (privileged && mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) FAIL("make slave", "/");
  int *fds = calloc((size_t)n + 1, sizeof *fds);
  if (!fds) FAIL("calloc", "");
  /* "idmap:<path>" exposes a root filesystem image: its root-owned files become the sandbox root's.
   * "nolinks:<path>" a directory that must be reached without following a link. */
  int userns = -1;
  for (int i = 0; i < n; i++) {
    const char *path = expose[i];
    if (!strncmp(path, "nolinks:", 8)) {
      if ((fds[i] = open_no_links(path + 8)) < 0) FAIL("open without following links", path + 8);
      continue;
    }
    if (!strncmp(path, "idmap:", 6)) {
      path += 6;
      if (userns < 0 && (userns = userns_of(uid, gid)) < 0) FAIL("create a user namespace for", path);
    }
    if ((fds[i] = open(path, O_PATH | O_CLOEXEC)) < 0) FAIL("open", path);
  }
  if (n > 0 && mount("tmpfs", EXPOSE_ROOT, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k") < 0)
    FAIL("mount tmpfs at", EXPOSE_ROOT);
  for (int i = 0; i < n; i++) {
    char target[64], source[64];
    struct stat st;
    snprintf(target, sizeof target, EXPOSE_ROOT "/shoal-%d", i);
    snprintf(source, sizeof source, "/proc/self/fd/%d", fds[i]);
    if (fstat(fds[i], &st) < 0) FAIL("stat", expose[i]);
    if (S_ISDIR(st.st_mode)) {
      if (mkdir(target, 0755) < 0) FAIL("mkdir", target);
    } else {
      int f = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      if (f < 0) FAIL("create", target);
      close(f);
    }
    if (!strncmp(expose[i], "idmap:", 6)) {
      if (idmapped_bind(source, target, userns) < 0)
        FAIL("bind with ids mapped (root filesystem images need idmapped mounts: Linux 5.19 or later)", expose[i] + 6);
    } else if (mount(source, target, NULL, MS_BIND | MS_REC, NULL) < 0) {
      FAIL("bind", expose[i]);
    }
    close(fds[i]);
  }
  if (ctl != 3) {
    if (dup2(ctl, 3) < 0) FAIL("dup2", "control socket");
  } else {
    fcntl(3, F_SETFD, 0);
  }
  syscall(SYS_close_range, 4u, ~0u, 0u);
  if (privileged && (setgroups(0, NULL) < 0 || setgid((gid_t)gid) < 0 || setuid((uid_t)uid) < 0))
    FAIL("drop to uid", "");
  /* bwrap started as root keeps its capabilities on the host: that would be no sandbox */
  if (getuid() == 0 || geteuid() == 0) FAIL("refusing to run bwrap as root", "");
  char *env[] = {"PATH=/usr/bin:/bin", NULL};
  int argc = 0;
  while (args[argc]) argc++;
  char **argv = calloc((size_t)argc + 2, sizeof *argv);
  if (!argv) FAIL("calloc", "");
  argv[0] = (char *)bwrap;
  for (int i = 0; i < argc; i++) argv[i + 1] = args[i];
  execve(bwrap, argv, env);
  FAIL("exec", bwrap);
#undef FAIL
}

void sandbox_open(struct cursor *c) {
  char *sid = next_field(c);
  long uid, gid;
  char *errlog, *bwrap, **expose = NULL, **args = NULL;
  if (!valid_id(sid)) return;
  if (!next_count(c, 0x7fffffffL, &uid) || !next_count(c, 0x7fffffffL, &gid) ||
      !(errlog = next_field(c)) || !(bwrap = next_field(c)) || !next_list(c, &expose) || !next_list(c, &args) ||
      c->p != c->end || find_sandbox(sid) || (geteuid() == 0 && uid == 0)) {
    reply("D %s -1 0 malformed open request\n", sid);
    goto done;
  }
  struct sandbox *sb = NULL;
  for (int i = 0; i < MAX_SANDBOXES && !sb; i++)
    if (!sandboxes[i].pid) sb = &sandboxes[i];
  int sv[2];
  if (!sb || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    reply("D %s -1 0 %s\n", sid, sb ? strerror(errno) : "too many sandboxes");
    goto done;
  }
  /* Requests carry whole command lines and environments: room for the largest one accepted. */
  int big = BUF_BYTES;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big);
  setsockopt(sv[1], SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
  pid_t pid = fork();
  if (pid < 0) {
    reply("D %s -1 0 fork: %s\n", sid, strerror(errno));
    close(sv[0]);
    close(sv[1]);
    goto done;
  }
  if (pid == 0) {
    close(sv[0]);
    exec_bwrap(sv[1], uid, gid, errlog, bwrap, expose, args);
  }
  close(sv[1]);
  snprintf(sb->id, sizeof sb->id, "%s", sid);
  sb->pid = pid;
  sb->ctl = sv[0];
  sb->ready = 0;
done:
  free(expose);
  free(args);
}

/* Gives a sandbox's cgroup up: its processes are killed, and it is removed once they are gone. */
static void retire(struct sandbox *sb) {
  sb->cg_dirty = 0;
  if (!sb->cg.created) return;
  cgroup_kill(&sb->cg);
  if (cgroup_remove(&sb->cg) == 0) return;
  for (int i = 0; i < MAX_RUNS; i++)
    if (!retired[i].created) {
      retired[i] = sb->cg;
      break;
    }
  /* (With every slot taken, which needs MAX_RUNS stuck cgroups, this one stays behind on the host.) */
  memset(&sb->cg, 0, sizeof sb->cg);
}

/* The attempt is over. Its cgroup is judged when the next attempt comes: by then the ended leader has
 * usually gone, with the memory its namespaces held. */
static void end_run(struct run *r) { r->sandbox = -1; }

static int sandbox_busy(const struct sandbox *sb) {
  for (int i = 0; i < MAX_RUNS; i++)
    if (runs[i].sandbox >= 0 && &sandboxes[runs[i].sandbox] == sb) return 1;
  return 0;
}

/*
 * The cgroup the attempt runs in, with its limits and its accounting started: the sandbox's own when the
 * last attempt left it clean, else a new one named `name`. A reused cgroup may refuse a change (a lower
 * memory limit than what is still charged to it, a counter it cannot read): then a new one is made.
 */
static int prepare_cgroup(struct sandbox *sb, const char *name, const struct cg_limits *limits, char *msg,
                          size_t len) {
  if (sb->cg.created && (sb->cg_dirty || !cgroup_reusable(&sb->cg))) retire(sb);
  if (sb->cg.created) {
    if (cgroup_limit(&sb->cg, limits, msg, len) == 0 && cgroup_begin(&sb->cg) == 0) return 0;
    retire(sb);
  }
  if (cgroup_create(&sb->cg, name, msg, len) < 0 || cgroup_limit(&sb->cg, limits, msg, len) < 0) return -1;
  cgroup_begin(&sb->cg); /* a new cgroup counts from zero even where a counter cannot be read */
  return 0;
}

void sandbox_run(struct cursor *c, char *record_end) {
  init_runs();
  char *id = next_field(c), *sid = next_field(c), *out = next_field(c), *err = next_field(c);
  char *cgname = next_field(c);
  struct cg_limits limits;
  if (!valid_id(id)) return;
  if (!sid || !out || !err || !cgname || !next_long(c, &limits.memory_bytes) || !next_long(c, &limits.cpu_millis) ||
      !next_long(c, &limits.pids) || c->p >= record_end) {
    reply("F %s malformed run request\n", id);
    return;
  }
  struct sandbox *sb = find_sandbox(sid);
  if (!sb || !sb->ready || sb->ctl < 0) {
    reply("F %s the sandbox %s is not running\n", id, sid);
    return;
  }
  /* One attempt at a time: attempts of a sandbox share its cgroup, its kills and its accounting. */
  if (sandbox_busy(sb)) {
    reply("F %s the sandbox %s already runs an attempt\n", id, sid);
    return;
  }
  struct run *r = NULL;
  for (int i = 0; i < MAX_RUNS && !r; i++)
    if (runs[i].sandbox < 0) r = &runs[i];
  if (!r) {
    reply("F %s too many attempts at once\n", id);
    return;
  }
  int fds[2 + CG_MAX_HIERARCHIES], nfds = 0;
  char msg[512];
  int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW;
  if ((fds[0] = open(out, flags, 0644)) < 0) {
    reply("F %s cannot open the stdout log %s: %s\n", id, out, strerror(errno));
    return;
  }
  fds[1] = strcmp(out, err) ? open(err, flags, 0644) : dup(fds[0]);
  if (fds[1] < 0) {
    reply("F %s cannot open the stderr log %s: %s\n", id, err, strerror(errno));
    close(fds[0]);
    return;
  }
  memset(r, 0, sizeof *r);
  snprintf(r->id, sizeof r->id, "%s", id);
  int ncg = 0;
  if (*cgname && cgroup_enabled()) {
    if (prepare_cgroup(sb, cgname, &limits, msg, sizeof msg) < 0) {
      reply("F %s %s\n", id, msg);
      retire(sb);
      close(fds[0]);
      close(fds[1]);
      r->sandbox = -1;
      return;
    }
    r->has_cg = 1;
    ncg = sb->cg.nprocs;
    memcpy(fds + 2, sb->cg.procs, sizeof(int) * (size_t)ncg);
  }
  nfds = 2 + ncg;
  char cbuf[CMSG_SPACE(sizeof(int) * (2 + CG_MAX_HIERARCHIES))];
  memset(cbuf, 0, sizeof cbuf);
  /* The cgroup's tag goes first: init parks the next attempt's leader in it, and has one there already
   * when it is the previous attempt's. Only for a cgroup that can serve again (else nothing is tagged,
   * and each leader joins when its attempt comes). */
  char tag[80];
  int taglen = r->has_cg && sb->cg.peak_resets ? snprintf(tag, sizeof tag, "G%c%s%c", 0, sb->cg.name, 0) : 0;
  struct iovec iov[2] = {{tag, (size_t)taglen}, {c->p, (size_t)(record_end - c->p)}};
  struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2, .msg_control = cbuf, .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds)};
  struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
  memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
  ssize_t sent;
  do sent = sendmsg(sb->ctl, &m, MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  int e = errno;
  close(fds[0]); /* the cgroup.procs descriptors stay the sandbox's */
  close(fds[1]);
  r->sandbox = (int)(sb - sandboxes);
  if (sent < 0) {
    reply("F %s the sandbox %s did not take the request: %s\n", id, sid, strerror(e));
    end_run(r);
  }
}

void sandbox_close(struct cursor *c) {
  char *sid = next_field(c);
  struct sandbox *sb = sid ? find_sandbox(sid) : NULL;
  /* init sees the control socket close and exits; bwrap follows, and sandbox_reap reports it */
  if (sb && sb->ctl >= 0) {
    close(sb->ctl);
    sb->ctl = -1;
  }
}

int sandbox_signal(const char *id, int sig) {
  struct run *r = find_run(id);
  if (!r) return 0;
  struct sandbox *sb = &sandboxes[r->sandbox];
  if (sig == SIGKILL && r->has_cg) {
    cgroup_kill(&sb->cg);
    sb->cg_dirty = 1;
  }
  if (sb->ctl >= 0) {
    char msg[64];
    int n = snprintf(msg, sizeof msg, "K%c%s%c%d%c", 0, id, 0, sig, 0);
    send(sb->ctl, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  return 1;
}

/* What init says about an attempt. */
static void from_init(struct sandbox *sb, char *msg) {
  if (!strcmp(msg, "READY")) {
    sb->ready = 1;
    reply("O %s %d\n", sb->id, (int)sb->pid);
    return;
  }
  char kind = msg[0];
  if (!kind || msg[1] != ' ') return;
  char *id = msg + 2, *rest = strchr(id, ' ');
  if (rest) *rest++ = '\0';
  struct run *r = find_run(id);
  if (!r || r->sandbox != (int)(sb - sandboxes)) return;
  if (kind == 'S') {
    r->started = 1;
    reply("P %s 0\n", id);
  } else if (kind == 'E') {
    reply("E %s %d\n", id, rest ? atoi(rest) : EIO);
    end_run(r);
  } else if (kind == 'F') {
    reply("F %s %s\n", id, rest ? rest : "the attempt's sandbox could not be set up");
    end_run(r);
  } else if (kind == 'X') {
    char *end = rest;
    int status = rest ? (int)strtol(rest, &end, 10) : 0;
    long long cpu_us = end ? strtoll(end, NULL, 10) : -1;
    struct cg_usage u;
    if (r->has_cg) cgroup_usage(&sb->cg, &u);
    else u = (struct cg_usage){-1, -1, -1, -1};
    if (u.cpu_us < 0) u.cpu_us = cpu_us; /* without cpuacct: what init measured of the attempt's processes */
    if (r->killed_for_pids && u.pids_hits < 1) u.pids_hits = 1;
    if (WIFSIGNALED(status))
      reply("X %s -1 %d %lld %lld %lld %lld\n", id, WTERMSIG(status), u.cpu_us, u.peak_bytes, u.oom_kills, u.pids_hits);
    else
      reply("X %s %d 0 %lld %lld %lld %lld\n", id, WEXITSTATUS(status), u.cpu_us, u.peak_bytes, u.oom_kills,
            u.pids_hits);
    end_run(r);
  }
}

int sandbox_poll_fds(struct pollfd *fds, int max) {
  int n = 0;
  for (int i = 0; i < MAX_SANDBOXES && n < max; i++)
    if (sandboxes[i].pid && sandboxes[i].ctl >= 0) fds[n++] = (struct pollfd){.fd = sandboxes[i].ctl, .events = POLLIN};
  return n;
}

void sandbox_poll_events(struct pollfd *fds, int n) {
  static char buf[4096];
  for (int k = 0; k < n; k++) {
    if (!fds[k].revents) continue;
    for (int i = 0; i < MAX_SANDBOXES; i++) {
      struct sandbox *sb = &sandboxes[i];
      if (!sb->pid || sb->ctl != fds[k].fd) continue;
      for (;;) {
        ssize_t got = recv(sb->ctl, buf, sizeof buf - 1, MSG_DONTWAIT);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (got <= 0) {
          /* init is gone; bwrap's exit (sandbox_reap) reports the sandbox and its attempts */
          close(sb->ctl);
          sb->ctl = -1;
          break;
        }
        buf[got] = '\0';
        from_init(sb, buf);
      }
    }
  }
}

int sandbox_reap(pid_t pid, int status) {
  for (int i = 0; i < MAX_SANDBOXES; i++) {
    struct sandbox *sb = &sandboxes[i];
    if (sb->pid != pid) continue;
    if (sb->ctl >= 0) {
      /* messages init sent before the end still count */
      struct pollfd p = {.fd = sb->ctl, .events = POLLIN, .revents = POLLIN};
      sandbox_poll_events(&p, 1);
      if (sb->ctl >= 0) close(sb->ctl);
      sb->ctl = -1;
    }
    init_runs();
    for (int k = 0; k < MAX_RUNS; k++) {
      struct run *r = &runs[k];
      if (r->sandbox != i) continue;
      reply("L %s the sandbox ended while the attempt ran (%s %d)\n", r->id,
            WIFSIGNALED(status) ? "signal" : "exit code", WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
      end_run(r);
    }
    retire(sb);
    if (WIFSIGNALED(status)) reply("D %s -1 %d\n", sb->id, WTERMSIG(status));
    else reply("D %s %d 0\n", sb->id, WEXITSTATUS(status));
    sb->pid = 0;
    return 1;
  }
  return 0;
}

int sandbox_tick(void) {
  init_runs();
  int pending = 0;
  for (int i = 0; i < MAX_RUNS; i++) {
    if (!retired[i].created) continue;
    if (cgroup_remove(&retired[i]) < 0) pending = 1;
  }
  for (int i = 0; i < MAX_RUNS; i++) {
    struct run *r = &runs[i];
    if (r->sandbox < 0 || !r->has_cg) continue;
    pending = 1;
    struct sandbox *sb = &sandboxes[r->sandbox];
    /* A fork bomb, or any attempt at its process limit: end it now rather than at its timeout. */
    if (!r->killed_for_pids && cgroup_pids_hits(&sb->cg) > 0) {
      r->killed_for_pids = 1;
      cgroup_kill(&sb->cg);
      sb->cg_dirty = 1;
    }
  }
  return pending;
}

void sandbox_kill_all(void) {
  init_runs();
  for (int i = 0; i < MAX_SANDBOXES; i++) {
    if (sandboxes[i].cg.created) cgroup_kill(&sandboxes[i].cg);
    if (sandboxes[i].pid) kill(sandboxes[i].pid, SIGKILL);
  }
  for (int i = 0; i < MAX_SANDBOXES; i++)
    for (int tries = 0; tries < 50 && cgroup_remove(&sandboxes[i].cg) < 0; tries++) usleep(10000);
  for (int i = 0; i < MAX_RUNS; i++)
    for (int tries = 0; tries < 50 && cgroup_remove(&retired[i]) < 0; tries++) usleep(10000);
}
