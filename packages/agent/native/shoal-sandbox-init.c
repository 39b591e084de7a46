/*
 * shoal-sandbox-init: the first process of a warm sandbox.
 *
 * bubblewrap starts it as pid 1 of the sandbox, unprivileged on the host (an unprivileged uid in a user
 * namespace of its own, with capabilities only inside that namespace). It then runs attempts, each in
 * namespaces of its own, so that a sandbox can be reused for consecutive attempts without anything of one
 * attempt reaching the next:
 *
 *   init (pid 1 of the sandbox)
 *    └─ attempt leader: cloned into new pid, mount, ipc and uts namespaces, it builds the base of the
 *        │ attempt's root (system directories read-only, a fresh /tmp, /proc and /dev/shm), joins the
 *        │ cgroup the previous attempt ran in, and waits, "parked", for its attempt: so that work is done
 *        │ before the attempt comes. Then (joining the attempt's cgroup instead if it is another one) it
 *        │ adds the working directory and the mappings, and pivots into the
 *        │ root. It is pid 1 of the attempt: once the command ends it kills every other process of the
 *        │ attempt (setsid or not) before it reports, and its exit ends the namespaces.
 *        └─ the command: all capabilities dropped, no_new_privs, no core dumps, then execve.
 *
 * Protocol on the control socket (fd given as argv[1]; SOCK_SEQPACKET, one message per record):
 *   in:  ["G\0" cgroup-tag] "R\0" id cwd nbase (kind a b c)*nbase nops (kind a b c)*nops argc argv... envc env...
 *        with SCM_RIGHTS fds:
 *        stdout, stderr, then one cgroup.procs descriptor per cgroup hierarchy to join; the tag names
 *        that cgroup (the helper reuses one for consecutive attempts, see spawn-cgroup.c)
 *        "K\0" id signal                                                  signal an attempt
 *   out: "READY" once, then per attempt "S id" (command started), "E id errno" (could not be started),
 *        "F id text" (the attempt's sandbox could not be built) and finally "X id wait-status cpu-us".
 * When the control socket closes, init exits, and with it every process of the sandbox.
 */
#include "common.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/securebits.h>

#define ROOT "/.shoal/root"
#define LAYER "/.shoal/layer"
#define MAX_FDS 16
#define MAX_ATTEMPTS 64
/* Descriptors the attempt leader keeps start here, clear of 0..2 which the command gets. */
#define HIGH_FD 100

struct attempt {
  char id[32];
  pid_t pid; /* the attempt leader, 0 when the slot is free */
  int status_fd;
  char buf[1024];
  size_t used;
  int reported; /* S, E or F already sent */
  int failed;   /* E or F sent: no X follows */
  int ended;    /* X sent */
  int eof;      /* the leader closed its status pipe */
  int sock;     /* to a parked leader: where its attempt is sent; -1 once sent */
};

static struct attempt attempts[MAX_ATTEMPTS];
static int ctl = 3;

static void send_text(const char *fmt, ...) {
  char line[1200];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof line) n = sizeof line - 1;
  while (send(ctl, line, (size_t)n, MSG_NOSIGNAL) < 0 && errno == EINTR) {
  }
}

/* ---- in the attempt leader --------------------------------------------------------------------- */

static int status_w = -1; /* the leader's end of its status pipe to init */

/* One line to init; newlines in `text` are flattened so a message stays one line. */
static void leader_say(const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof line - 1) n = sizeof line - 2;
  for (int i = 0; i < n; i++)
    if (line[i] == '\n') line[i] = ' ';
  line[n++] = '\n';
  write_all(status_w, line, (size_t)n);
}

static void __attribute__((noreturn)) setup_failed(const char *what, const char *path) {
  leader_say("F %s %s: %s", what, path, strerror(errno));
  _exit(1);
}

/* mkdir -p, each new directory with `mode`. */
static int make_dirs(const char *path, mode_t mode) {
  char buf[PATH_MAX];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return errno = ENAMETOOLONG, -1;
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(buf, mode) < 0 && errno != EEXIST) return -1;
    *p = '/';
  }
  if (mkdir(buf, mode) < 0 && errno != EEXIST) return -1;
  return 0;
}

static int make_parent(const char *path) {
  char buf[PATH_MAX];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return errno = ENAMETOOLONG, -1;
  char *slash = strrchr(buf, '/');
  if (!slash || slash == buf) return 0;
  *slash = '\0';
  return make_dirs(buf, 0755);
}

struct shoal_mount_attr {
  uint64_t attr_set, attr_clr, propagation, userns_fd;
};

/*
 * Makes a mount read-only. mount_setattr (Linux 5.12) changes only that flag, recursively if asked;
 * the older remount must repeat the flags the mount already has (nosuid, nodev, ...), which the kernel
 * keeps locked, or it fails with EPERM.
 */
static int make_readonly(const char *path, int recursive) {
#ifdef SYS_mount_setattr
  struct shoal_mount_attr attr = {.attr_set = 0x1 /* MOUNT_ATTR_RDONLY */};
  if (syscall(SYS_mount_setattr, AT_FDCWD, path, recursive ? AT_RECURSIVE : 0, &attr, sizeof attr) == 0)
    return 0;
  if (errno != ENOSYS) return -1;
#endif
  struct statvfs st;
  if (statvfs(path, &st) < 0) return -1;
  unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY;
  if (st.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (st.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (st.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (st.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (st.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  return mount(NULL, path, NULL, flags, NULL);
}

/* `dst` inside the root being built. */
static const char *in_root(const char *dst, char *buf, size_t size) {
  if (dst[0] != '/' || strstr(dst, "/../") || (strlen(dst) >= 3 && !strcmp(dst + strlen(dst) - 3, "/.."))) {
    errno = EINVAL;
    setup_failed("mount target", dst);
  }
  if (snprintf(buf, size, "%s%s", ROOT, strcmp(dst, "/") == 0 ? "" : dst) >= (int)size) {
    errno = ENAMETOOLONG;
    setup_failed("mount target", dst);
  }
  return buf;
}

/* Carries out one mount operation of the request on the root being built at ROOT. */
static void run_op(const char *kind, const char *a, const char *b, const char *c) {
  char t[PATH_MAX], opts[3 * PATH_MAX + 64];
  if (!strcmp(kind, "root-tmpfs")) {
    /* No size of its own: its pages are charged to the attempt's memory cgroup. */
    if (mount("tmpfs", ROOT, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0) setup_failed("mount tmpfs at", "/");
  } else if (!strcmp(kind, "root-overlay")) {
    /* a: the image (read-only). Its writable layer is a tmpfs of the attempt's own: changes stay in
     * memory (charged to the attempt's cgroup) and vanish with it. */
    if (make_dirs(LAYER, 0755) < 0) setup_failed("create", LAYER);
    if (mount("tmpfs", LAYER, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0) setup_failed("mount tmpfs at", LAYER);
    if (mkdir(LAYER "/upper", 0755) < 0 || mkdir(LAYER "/work", 0755) < 0) setup_failed("create layers in", LAYER);
    if (snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=" LAYER "/upper,workdir=" LAYER "/work,userxattr", a) >=
        (int)sizeof opts)
      errno = ENAMETOOLONG, setup_failed("mount overlay of", a);
    if (mount("overlay", ROOT, "overlay", MS_NOSUID | MS_NODEV, opts) < 0) setup_failed("mount overlay of", a);
  } else if (!strcmp(kind, "bind")) {
    /* a: source (a path the sandbox sees), b: target, c: "ro" or "rw". */
    struct stat st;
    in_root(b, t, sizeof t);
    if (stat(a, &st) < 0) setup_failed("bind source", a);
    if (S_ISDIR(st.st_mode)) {
      if (make_dirs(t, 0755) < 0) setup_failed("create mount point", b);
    } else {
      if (make_parent(t) < 0) setup_failed("create mount point", b);
      int fd = open(t, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
      if (fd < 0 && errno != EISDIR) setup_failed("create mount point", b);
      if (fd >= 0) close(fd);
    }
    if (mount(a, t, NULL, MS_BIND | MS_REC, NULL) < 0) setup_failed("bind", b);
    if (strcmp(c, "rw") != 0 && make_readonly(t, 1) < 0) setup_failed("make read-only", b);
  } else if (!strcmp(kind, "tmpfs")) {
    in_root(a, t, sizeof t);
    if (make_dirs(t, 0755) < 0) setup_failed("create mount point", a);
    snprintf(opts, sizeof opts, "mode=%s", *b ? b : "0755");
    if (mount("tmpfs", t, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0) setup_failed("mount tmpfs at", a);
  } else if (!strcmp(kind, "proc")) {
    in_root(a, t, sizeof t);
    if (make_dirs(t, 0755) < 0) setup_failed("create mount point", a);
    if (mount("proc", t, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) setup_failed("mount proc at", a);
  } else if (!strcmp(kind, "rwdir")) {
    /* A writable directory of the root's own tmpfs (a bind of itself stays writable when the root
     * becomes read-only): /tmp without a filesystem of its own. */
    in_root(a, t, sizeof t);
    if (make_dirs(t, 0755) < 0) setup_failed("create directory", a);
    if (*b && chmod(t, (mode_t)strtol(b, NULL, 8)) < 0) setup_failed("chmod", a);
    if (mount(t, t, NULL, MS_BIND, NULL) < 0) setup_failed("bind", a);
  } else if (!strcmp(kind, "dev")) {
    /* The sandbox's minimal /dev (bubblewrap's), bound read-only so nothing can be left in it for the
     * next attempt, with a fresh /dev/shm. Device nodes stay usable on a read-only mount. (The sandbox's
     * mounts are locked in the attempt's namespace, which a nested user namespace owns: they can be
     * bound, not moved.) */
    char shm[PATH_MAX + 8];
    in_root(a, t, sizeof t);
    if (make_dirs(t, 0755) < 0) setup_failed("create mount point", a);
    if (mount("/dev", t, NULL, MS_BIND | MS_REC, NULL) < 0) setup_failed("bind /dev at", a);
    snprintf(shm, sizeof shm, "%s/shm", t);
    struct stat st;
    if (stat(shm, &st) == 0 && S_ISDIR(st.st_mode) &&
        mount("tmpfs", shm, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0)
      setup_failed("mount tmpfs at", "/dev/shm");
    if (make_readonly(t, 0) < 0) setup_failed("make read-only", a);
  } else if (!strcmp(kind, "symlink")) {
    in_root(b, t, sizeof t);
    if (make_parent(t) < 0) setup_failed("create parent of", b);
    if (symlink(a, t) < 0 && errno != EEXIST) setup_failed("symlink", b);
  } else if (!strcmp(kind, "dir")) {
    in_root(a, t, sizeof t);
    if (make_dirs(t, 0755) < 0) setup_failed("create directory", a);
    if (*b && chmod(t, (mode_t)strtol(b, NULL, 8)) < 0) setup_failed("chmod", a);
  } else if (!strcmp(kind, "ro")) {
    in_root(a, t, sizeof t);
    if (make_readonly(t, 0) < 0) setup_failed("make read-only", a);
  } else {
    errno = EINVAL;
    setup_failed("unknown mount operation", kind);
  }
}

/*
 * What no process the leader starts may ever gain: root's special treatment (securebits, locked), and
 * any capability outside the (emptied) bounding set or ambient set at execve. Done by the parked leader,
 * off the attempt's start; the leader keeps its own effective capabilities for the mounts still to do,
 * and the command drops them (drop_privileges).
 */
static int limit_future_privileges(void) {
  if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                                   SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED) < 0)
    return -1;
  for (int cap = 0; cap <= 63; cap++)
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) return -1;
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) return -1;
  return 0;
}

/* Everything the command must not keep: its capabilities (it runs as a non-root uid), new privileges. */
static int drop_privileges(void) {
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  if (syscall(SYS_capset, &header, data) < 0) return -1;
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/* In the command's process: returns only with an errno when something failed before execve. */
static int exec_command(char **argv, char **envp, const char *cwd, int out, int err) {
  sigset_t none;
  sigemptyset(&none);
  for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
  sigprocmask(SIG_SETMASK, &none, NULL);
  if (setsid() < 0) return errno;
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null < 0) return errno;
  if (dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) return errno;
  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core); /* a host core_pattern helper must not see the sandbox's memory */
  if (chdir(cwd) < 0) return errno;
  char pathbuf[PATH_MAX];
  const char *exe = resolve_command(argv[0], envp, cwd, pathbuf, sizeof pathbuf);
  if (!exe) return ENOENT;
  if (drop_privileges() < 0) return errno;
  execve(exe, argv, envp);
  return errno;
}

struct request {
  char *id, *cwd;
  char *cgtag; /* the cgroup the descriptors lead to; "" when none was named */
  /* The base of the root (identical for every attempt of a sandbox), applied before the request comes,
   * then the attempt's own operations; 4 fields per operation. */
  long nbase, nops;
  char **base, **ops;
  /* Where the base lies in the request's bytes, to tell whether a parked leader has the right one. */
  const char *base_start, *base_end;
  char **argv, **envp;
};

/* ["G\0" tag] "R\0" id cwd nbase (4 fields)*nbase nops (4 fields)*nops argc argv... envc env... */
static int parse_request(char *body, size_t len, struct request *r) {
  struct cursor c = {body, body + len};
  char *kind = next_field(&c);
  r->cgtag = "";
  if (kind && !strcmp(kind, "G")) {
    if (!(r->cgtag = next_field(&c))) return 0;
    kind = next_field(&c);
  }
  if (!kind || strcmp(kind, "R")) return 0;
  r->id = next_field(&c);
  r->cwd = next_field(&c);
  if (!r->id || !*r->id || strlen(r->id) >= sizeof attempts[0].id || !r->cwd) return 0;
  r->base_start = c.p;
  if (!next_count(&c, (c.end - c.p) / 4, &r->nbase)) return 0;
  if (!(r->base = calloc((size_t)r->nbase * 4 + 1, sizeof *r->base))) return 0;
  for (long i = 0; i < r->nbase * 4; i++)
    if (!(r->base[i] = next_field(&c))) return 0;
  r->base_end = c.p;
  if (!next_count(&c, (c.end - c.p) / 4, &r->nops)) return 0;
  if (!(r->ops = calloc((size_t)r->nops * 4 + 1, sizeof *r->ops))) return 0;
  for (long i = 0; i < r->nops * 4; i++)
    if (!(r->ops[i] = next_field(&c))) return 0;
  if (!next_list(&c, &r->argv) || !r->argv[0]) return 0;
  if (!next_list(&c, &r->envp)) return 0;
  return c.p == c.end;
}

static void free_request(struct request *r) {
  free(r->base);
  free(r->ops);
  free(r->argv);
  free(r->envp);
}

/* One message with the descriptors passed along (at most MAX_FDS; more are closed). Bytes, or -1. */
static ssize_t receive(int sock, char *buf, size_t cap, int *fds, int *nfds) {
  char cbuf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
  struct iovec iov = {buf, cap};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
  ssize_t got;
  do got = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (got < 0 && errno == EINTR);
  *nfds = 0;
  if (got < 0) return -1;
  for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
    int count = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    int *fdp = (int *)CMSG_DATA(cm);
    for (int k = 0; k < count; k++) {
      if (*nfds < MAX_FDS) fds[(*nfds)++] = fdp[k];
      else close(fdp[k]);
    }
  }
  if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
    for (int k = 0; k < *nfds; k++) close(fds[k]);
    *nfds = 0;
    errno = EMSGSIZE;
    return -1;
  }
  return got;
}

#define LEADER_SOCK 99
/* The command's process runs on a stack of its own until execve (see attempt_leader). */
#define COMMAND_STACK (256 * 1024)

struct command_start {
  struct request *r;
  int error_pipe;
};

static int command_main(void *arg) {
  struct command_start *s = arg;
  int e = exec_command(s->r->argv, s->r->envp, s->r->cwd, HIGH_FD + 1, HIGH_FD + 2);
  write_all(s->error_pipe, &e, sizeof e);
  _exit(127);
}
/* Where a parked leader finds the cgroup.procs descriptors of the cgroup it joins while parked. */
#define PARKED_CG_FD 200

/* Writes "0" to each cgroup.procs descriptor: the writer joins that cgroup (as root opened it, outside). */
static void join_cgroups(int first, int n) {
  for (int i = 0; i < n; i++) {
    if (write(first + i, "0", 1) < 0) setup_failed("join cgroup", "(procs)");
    close(first + i);
  }
}

/*
 * The attempt leader: cloned by init into fresh pid, mount, ipc and uts namespaces, it builds the base of
 * the root at once and then waits ("parked") for its attempt: the request, with stdout, stderr and the
 * cgroup.procs descriptors. So the work common to every attempt is done while the previous one ends.
 */
static void __attribute__((noreturn)) attempt_leader(int sock, int status, long nbase, char **base,
                                                    const char *cgtag, const int *cgfds, int ncg) {
  /* Keep only what the attempt needs, at known numbers: 99 = the request socket, 100 = status pipe,
   * then 101 stdout, 102 stderr, 103.. cgroup.procs of each hierarchy, and while parked 200.. the
   * cgroup.procs of the cgroup to join now. Everything else of init's goes. */
  /* Every descriptor kept is first moved out of the way, so that placing one clobbers no other. */
  int s = fcntl(sock, F_DUPFD_CLOEXEC, 1000), w = fcntl(status, F_DUPFD_CLOEXEC, 1000), high[MAX_FDS];
  if (ncg > MAX_FDS || s < 0 || w < 0) _exit(120);
  for (int i = 0; i < ncg; i++)
    if ((high[i] = fcntl(cgfds[i], F_DUPFD_CLOEXEC, 1000)) < 0) _exit(120);
  if (dup3(s, LEADER_SOCK, O_CLOEXEC) < 0 || dup3(w, HIGH_FD, O_CLOEXEC) < 0) _exit(120);
  for (int i = 0; i < ncg; i++)
    if (dup3(high[i], PARKED_CG_FD + i, O_CLOEXEC) < 0) _exit(120);
  syscall(SYS_close_range, 3u, (unsigned)LEADER_SOCK - 1, 0u);
  syscall(SYS_close_range, (unsigned)HIGH_FD + 1, (unsigned)PARKED_CG_FD - 1, 0u);
  syscall(SYS_close_range, (unsigned)(PARKED_CG_FD + ncg), ~0u, 0u);
  status_w = HIGH_FD;
  /* No parent-death signal needed: init is pid 1 of the sandbox, whose end kills every process in it. */
  prctl(PR_SET_DUMPABLE, 0); /* the command (same uid) may not ptrace or read the leader */

  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) setup_failed("make private", "/");
  for (long i = 0; i < nbase; i++) run_op(base[4 * i], base[4 * i + 1], base[4 * i + 2], base[4 * i + 3]);
  /* Joining costs tens of microseconds per hierarchy: done now, off the attempt's start. */
  join_cgroups(PARKED_CG_FD, ncg);
  if (limit_future_privileges() < 0) setup_failed("drop the capability bounding set of", "the attempt");
  char joined[64]; /* the tag of the cgroup joined, and how many hierarchies of it */
  snprintf(joined, sizeof joined, "%s", ncg ? cgtag : "");

  char *buf = malloc(SHOAL_MAX_RECORD);
  int fds[MAX_FDS], nfds;
  if (!buf) _exit(120);
  ssize_t got = receive(LEADER_SOCK, buf, SHOAL_MAX_RECORD, fds, &nfds);
  if (got <= 0) _exit(0); /* init gave this leader up */
  close(LEADER_SOCK);
  struct request r = {0};
  if (!parse_request(buf, (size_t)got, &r) || nfds < 2) _exit(120);
  for (int i = 0; i < nfds; i++) { /* first out of the way, so that no target clobbers a source */
    int high = fcntl(fds[i], F_DUPFD_CLOEXEC, 1000);
    if (high < 0) _exit(120);
    close(fds[i]);
    fds[i] = high;
  }
  for (int i = 0; i < nfds; i++)
    if (dup3(fds[i], HIGH_FD + 1 + i, O_CLOEXEC) < 0) _exit(120);
  syscall(SYS_close_range, (unsigned)(HIGH_FD + 1 + nfds), ~0u, 0u);

  /* Already in the attempt's cgroup when parked in the one it names; else (a first attempt, or a new
   * cgroup) it joins now. Either way the command starts inside. */
  if (*joined && !strcmp(joined, r.cgtag) && ncg == nfds - 2)
    syscall(SYS_close_range, (unsigned)(HIGH_FD + 3), ~0u, 0u);
  else join_cgroups(HIGH_FD + 3, nfds - 2);
  for (long i = 0; i < r.nops; i++) run_op(r.ops[4 * i], r.ops[4 * i + 1], r.ops[4 * i + 2], r.ops[4 * i + 3]);
  if (chdir(ROOT) < 0) setup_failed("enter", "/");
  if (syscall(SYS_pivot_root, ".", ".") < 0) setup_failed("pivot_root", "/");
  if (umount2(".", MNT_DETACH) < 0) setup_failed("detach the sandbox root from", "/");
  if (chdir("/") < 0) setup_failed("enter", "/");

  sigset_t handled;
  sigemptyset(&handled);
  int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++) sigaddset(&handled, forwarded[i]);
  sigaddset(&handled, SIGCHLD);
  sigprocmask(SIG_BLOCK, &handled, NULL);
  int sfd = signalfd(-1, &handled, SFD_CLOEXEC);
  if (sfd < 0) setup_failed("signalfd", "-");

  int ep[2];
  if (pipe2(ep, O_CLOEXEC) < 0) setup_failed("pipe", "-");
  /* The command's process shares the leader's memory until its execve, as posix_spawn does: no page
   * tables copied, no copy-on-write faults on either side. The leader waits meanwhile (CLONE_VFORK);
   * the child has its own descriptors, signal handlers and credentials, which it changes. */
  char *stack = malloc(COMMAND_STACK);
  if (!stack) setup_failed("allocate a stack for", r.argv[0]);
  struct command_start start = {&r, ep[1]};
  pid_t command = clone(command_main, stack + COMMAND_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, &start);
  if (command < 0) setup_failed("clone", "-");
  free(stack);
  close(ep[1]);
  close(HIGH_FD + 1);
  close(HIGH_FD + 2);
  int e = 0;
  ssize_t n;
  do n = read(ep[0], &e, sizeof e);
  while (n < 0 && errno == EINTR);
  close(ep[0]);
  if (n == (ssize_t)sizeof e) leader_say("E %d", e ? e : EIO);
  else leader_say("S");

  /* pid 1 of the attempt: reap everything, pass termination signals on to every process of the
   * attempt, and once the command itself has ended, end the rest and report. */
  for (;;) {
    struct signalfd_siginfo info;
    ssize_t sig = read(sfd, &info, sizeof info);
    if (sig < 0) {
      if (errno == EINTR) continue;
      _exit(121);
    }
    if (info.ssi_signo != SIGCHLD) {
      kill(-1, (int)info.ssi_signo);
      continue;
    }
    int wstatus;
    pid_t pid;
    while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
      if (pid != command) continue;
      /* Whatever the command left behind (background or setsid processes) dies now, before the
       * report: once init passes it on, nothing of this attempt may still run. kill(-1) from pid 1 of
       * the namespace reaches every other process in it; a fork racing it is aborted by the kernel. */
      for (;;) {
        kill(-1, SIGKILL);
        pid_t left = waitpid(-1, NULL, 0);
        if (left < 0 && errno == ECHILD) break;
      }
      /* CPU time of everything reaped: the command with its waited-for descendants, and the rest */
      struct rusage ru;
      getrusage(RUSAGE_CHILDREN, &ru);
      long long cpu_us = (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
                         ru.ru_stime.tv_usec;
      if (n != (ssize_t)sizeof e) leader_say("X %d %lld", wstatus, cpu_us);
      _exit(0);
    }
  }
}

/* ---- in init ----------------------------------------------------------------------------------- */

/* The parked leader (at most one: a sandbox runs one attempt at a time) and the base it was built with. */
static struct attempt *parked;
static char *parked_base;
static size_t parked_base_len;
/* The cgroup the last attempt ran in, which the next parked leader joins, and the tag it was parked with. */
static int cg_fds[MAX_FDS];
static int ncg_fds;
static char cg_tag[64], parked_tag[64];

/* Remembers the cgroup of a request (its descriptors after stdout and stderr) when it is a new one; an
 * untagged request (its cgroup will not serve again) leaves none to park leaders in. */
static void remember_cgroup(const char *tag, const int *fds, int nfds) {
  if (*tag && !strcmp(tag, cg_tag)) return;
  for (int i = 0; i < ncg_fds; i++) close(cg_fds[i]);
  ncg_fds = 0;
  cg_tag[0] = '\0';
  if (!*tag || strlen(tag) >= sizeof cg_tag) return;
  for (int i = 2; i < nfds; i++) {
    int fd = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
    if (fd < 0) { /* all of them or none: a leader must not believe it joined what it did not */
      for (int k = 0; k < ncg_fds; k++) close(cg_fds[k]);
      ncg_fds = 0;
      return;
    }
    cg_fds[ncg_fds++] = fd;
  }
  snprintf(cg_tag, sizeof cg_tag, "%s", tag);
}

/* Clones a leader that builds `base` and waits for its attempt. NULL (errno set) on failure. */
static struct attempt *park(const char *base_bytes, size_t base_len, long nbase, char **base) {
  struct attempt *slot = NULL;
  for (int i = 0; i < MAX_ATTEMPTS && !slot; i++)
    if (!attempts[i].pid) slot = &attempts[i];
  if (!slot) return errno = EAGAIN, NULL;
  int sv[2], sp[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return NULL;
  if (pipe2(sp, O_CLOEXEC) < 0) {
    close(sv[0]);
    close(sv[1]);
    return NULL;
  }
  int big = SHOAL_MAX_RECORD + 4096;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  /* clone, not unshare + fork: init's own pid namespace for children must stay its own, and each
   * attempt gets fresh namespaces. With no new stack, clone behaves like fork. */
  pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | SIGCHLD, NULL,
                             NULL, NULL, NULL);
  if (pid == 0) attempt_leader(sv[1], sp[1], nbase, base, cg_tag, cg_fds, ncg_fds);
  int e = errno;
  close(sv[1]);
  close(sp[1]);
  if (pid < 0) {
    close(sv[0]);
    close(sp[0]);
    return errno = e, NULL;
  }
  memset(slot, 0, sizeof *slot);
  slot->pid = pid;
  slot->status_fd = sp[0];
  slot->sock = sv[0];
  fcntl(sp[0], F_SETFL, O_NONBLOCK);
  char *copy = malloc(base_len + 1);
  if (copy) memcpy(copy, base_bytes, base_len);
  free(parked_base);
  parked_base = copy;
  parked_base_len = copy ? base_len : 0;
  snprintf(parked_tag, sizeof parked_tag, "%s", cg_tag);
  parked = slot;
  return slot;
}

/* Gives up the parked leader (its reaping frees the slot, silently: it had no attempt). */
static void unpark(void) {
  if (!parked) return;
  close(parked->sock);
  parked->sock = -1;
  kill(parked->pid, SIGKILL);
  parked = NULL;
}

static struct attempt *find(const char *id) {
  for (int i = 0; i < MAX_ATTEMPTS; i++)
    if (attempts[i].pid && attempts[i].id[0] && !strcmp(attempts[i].id, id)) return &attempts[i];
  return NULL;
}

static void start(char *body, size_t len, int *fds, int nfds) {
  struct request r = {0};
  if (!parse_request(body, len, &r) || nfds < 2) {
    if (r.id && strlen(r.id) < sizeof attempts[0].id) send_text("F %s malformed request", r.id);
    goto done;
  }
  size_t base_len = (size_t)(r.base_end - r.base_start);
  remember_cgroup(r.cgtag, fds, nfds);
  /* A leader parked in another cgroup may have been killed with it (the helper gives a cgroup up by
   * killing what is in it): a fresh one takes the attempt. */
  if (parked && (!parked_base || parked_base_len != base_len || memcmp(parked_base, r.base_start, base_len) ||
                 strcmp(parked_tag, r.cgtag)))
    unpark();
  if (!parked && !park(r.base_start, base_len, r.nbase, r.base)) {
    send_text("F %s cannot start the attempt: %s", r.id, strerror(errno));
    goto done;
  }
  struct attempt *a = parked;
  parked = NULL;
  char cbuf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
  memset(cbuf, 0, sizeof cbuf);
  struct iovec iov = {body, len};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                     .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds)};
  struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
  memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
  ssize_t sent;
  do sent = sendmsg(a->sock, &m, MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  int e = errno;
  close(a->sock);
  a->sock = -1;
  snprintf(a->id, sizeof a->id, "%s", r.id);
  if (sent < 0) {
    send_text("F %s cannot hand the attempt to its leader: %s", r.id, strerror(e));
    a->failed = a->reported = 1;
    kill(a->pid, SIGKILL);
  }
done:
  for (int i = 0; i < nfds; i++) close(fds[i]);
  free_request(&r);
}

/* Reads what the attempt leader said; each complete line is passed on. */
static void drain(struct attempt *a) {
  for (;;) {
    ssize_t n = read(a->status_fd, a->buf + a->used, sizeof a->buf - 1 - a->used);
    if (n == 0) a->eof = 1; /* the leader is exiting: stop polling it, its reaping ends the attempt */
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      break;
    }
    a->used += (size_t)n;
    char *nl;
    while ((nl = memchr(a->buf, '\n', a->used))) {
      *nl = '\0';
      /* A parked leader has no attempt yet: only a failure to build the base can come from it. */
      const char *id = a->id[0] ? a->id : "-";
      if (a->buf[0] == 'S') send_text("S %s", id), a->reported = 1;
      else if (a->buf[0] == 'E') send_text("E %s %s", id, a->buf + 2), a->reported = a->failed = 1;
      else if (a->buf[0] == 'F') {
        if (a->id[0]) send_text("F %s %s", id, a->buf + 2);
        else fprintf(stderr, "shoal-sandbox-init: a parked attempt leader failed: %s\n", a->buf + 2);
        a->reported = a->failed = 1;
      } else if (a->buf[0] == 'X' && !a->failed && !a->ended) {
        /* Sent at once: the leader reports only once every process of the attempt is gone, and its own
         * exit (the teardown of the attempt's namespaces) need not delay the result. */
        char *end;
        int status = (int)strtol(a->buf + 2, &end, 10);
        send_text("X %s %d %lld", id, status, strtoll(end, NULL, 10));
        a->ended = 1;
      }
      size_t rest = a->used - (size_t)(nl + 1 - a->buf);
      memmove(a->buf, nl + 1, rest);
      a->used = rest;
    }
    if (a->used == sizeof a->buf - 1) a->used = 0; /* an overlong line: drop it */
  }
}

static void reap(void) {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    for (int i = 0; i < MAX_ATTEMPTS; i++) {
      struct attempt *a = &attempts[i];
      if (a->pid != pid) continue;
      if (a == parked) parked = NULL; /* it died before its attempt came: the next one parks anew */
      drain(a);
      if (a->id[0] && !a->reported)
        send_text("F %s the attempt ended before its command started (wait status %d)", a->id, status);
      else if (a->id[0] && !a->failed && !a->ended) send_text("X %s %d -1", a->id, status); /* killed */
      if (a->sock >= 0) close(a->sock);
      close(a->status_fd);
      a->pid = 0;
    }
  }
}

/* After an attempt's command ended, the next attempt's leader is parked with the same base. */
static void park_next(void) {
  if (parked || !parked_base) return;
  struct cursor c = {parked_base, parked_base + parked_base_len};
  long nbase;
  char **base = NULL;
  if (!next_count(&c, parked_base_len / 4, &nbase) || !(base = calloc((size_t)nbase * 4 + 1, sizeof *base))) return;
  for (long i = 0; i < nbase * 4; i++)
    if (!(base[i] = next_field(&c))) {
      free(base);
      return;
    }
  char *bytes = parked_base; /* park() replaces parked_base with its own copy */
  parked_base = NULL;
  park(bytes, parked_base_len, nbase, base);
  free(base);
  free(bytes);
}

static void command(char *body, size_t len, int *fds, int nfds) {
  if (len >= 2 && (body[0] == 'R' || body[0] == 'G') && body[1] == '\0') {
    start(body, len, fds, nfds);
    return;
  }
  for (int i = 0; i < nfds; i++) close(fds[i]);
  struct cursor c = {body, body + len};
  char *kind = next_field(&c), *id = next_field(&c);
  long sig;
  if (!kind || strcmp(kind, "K") || !id || !next_count(&c, 64, &sig)) return;
  struct attempt *a = find(id);
  if (a) kill(a->pid, (int)sig);
}

int main(int argc, char **argv) {
  if (argc > 1) ctl = atoi(argv[1]);
  if (make_dirs(ROOT, 0755) < 0) {
    fprintf(stderr, "shoal-sandbox-init: cannot create %s: %s\n", ROOT, strerror(errno));
    return 1;
  }
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  signal(SIGPIPE, SIG_IGN);
  int sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0) return 1;
  fcntl(ctl, F_SETFD, FD_CLOEXEC);
  char *buf = malloc(SHOAL_MAX_RECORD);
  if (!buf) return 1;
  send_text("READY");

  for (;;) {
    struct pollfd fds[2 + MAX_ATTEMPTS];
    struct attempt *owner[2 + MAX_ATTEMPTS];
    nfds_t n = 0;
    fds[n++] = (struct pollfd){.fd = ctl, .events = POLLIN};
    fds[n++] = (struct pollfd){.fd = sfd, .events = POLLIN};
    for (int i = 0; i < MAX_ATTEMPTS; i++) {
      if (!attempts[i].pid || attempts[i].eof) continue;
      owner[n] = &attempts[i];
      fds[n++] = (struct pollfd){.fd = attempts[i].status_fd, .events = POLLIN};
    }
    if (poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    int ended = 0;
    for (nfds_t i = 2; i < n; i++) {
      if (!fds[i].revents) continue;
      int before = owner[i]->ended || owner[i]->failed;
      drain(owner[i]);
      /* (A parked leader that failed had no attempt: parking another at once could fail the same way.) */
      if (!before && owner[i]->id[0] && (owner[i]->ended || owner[i]->failed)) ended = 1;
    }
    if (fds[1].revents & POLLIN) {
      struct signalfd_siginfo info;
      while (read(sfd, &info, sizeof info) == sizeof info) {
      }
      reap();
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      int passed[MAX_FDS], npassed;
      ssize_t got = receive(ctl, buf, SHOAL_MAX_RECORD, passed, &npassed);
      if (got < 0 && errno == EMSGSIZE) continue;
      if (got <= 0) return 0; /* the agent is gone: exiting ends the whole sandbox */
      command(buf, (size_t)got, passed, npassed);
    }
    if (ended) park_next();
  }
}
