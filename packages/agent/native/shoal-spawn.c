/*
 * shoal-spawn: starts commands for the Shoal runner with posix_spawn (vfork-fast, no copy of a large
 * parent's page tables) and reports their exits. Each command gets its own session (so the runner can
 * signal the whole process group), stdin from /dev/null, stdout/stderr opened on the given files, no
 * other descriptor (glibc >= 2.34), and the given working directory and environment.
 *
 * Protocol on stdin: records of a 4-byte little-endian length followed by NUL-terminated fields:
 *   id, file, cwd, stdout path, stderr path, uid, gid, status path, argc, argv[0..argc), envc, env[0..envc)
 * uid, gid and status path may be empty. With a uid or gid the command is forked and drops to that user
 * (sandboxed commands: bubblewrap must never run as root); with a status path, that file is the command's
 * fd 3 (bubblewrap's JSON status). Plain commands use posix_spawn.
 * Replies on stdout, one line each:
 *   P <id> <pid>          started
 *   E <id> <errno>        could not start (EINVAL for a malformed record)
 *   X <id> <code> <sig>   ended (code -1 when killed by signal <sig>); its process group is then killed
 * When stdin closes (the runner's process died), every process group it started is killed and it exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct child {
  pid_t pid;
  char id[32];
};

static struct child *children;
static size_t nchildren, capchildren;

static void reply(const char *line) {
  size_t len = strlen(line), off = 0;
  while (off < len) {
    ssize_t n = write(1, line + off, len - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      exit(1);
    }
    off += (size_t)n;
  }
}

static void remember(pid_t pid, const char *id) {
  if (nchildren == capchildren) {
    capchildren = capchildren ? capchildren * 2 : 64;
    children = realloc(children, capchildren * sizeof *children);
    if (!children) exit(1);
  }
  children[nchildren].pid = pid;
  snprintf(children[nchildren].id, sizeof children[nchildren].id, "%s", id);
  nchildren++;
}

/* Resolves `file` like execvp would, but with the command's own PATH (found in its environment). */
static const char *resolve(const char *file, char *const envp[], const char *cwd, char *buf, size_t size) {
  if (strchr(file, '/')) return file;
  const char *path = "/usr/local/bin:/usr/bin:/bin";
  for (char *const *e = envp; *e; e++)
    if (strncmp(*e, "PATH=", 5) == 0) path = *e + 5;
  while (*path) {
    const char *end = strchr(path, ':');
    size_t dirlen = end ? (size_t)(end - path) : strlen(path);
    int n;
    if (dirlen == 0) n = snprintf(buf, size, "%s/%s", cwd, file);
    else if (path[0] == '/') n = snprintf(buf, size, "%.*s/%s", (int)dirlen, path, file);
    else n = snprintf(buf, size, "%s/%.*s/%s", cwd, (int)dirlen, path, file);
    if (n > 0 && (size_t)n < size) {
      struct stat st;
      if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0) return buf;
    }
    if (!end) break;
    path = end + 1;
  }
  return NULL;
}

/* The next NUL-terminated field at *p, or NULL when the record ends before its NUL. */
static char *field(char **p, char *end) {
  if (*p >= end) return NULL;
  char *nul = memchr(*p, '\0', (size_t)(end - *p));
  if (!nul) return NULL;
  char *f = *p;
  *p = nul + 1;
  return f;
}

/* A count field: decimal digits only, at most `max` (each counted field takes at least one byte). */
static int count(const char *text, long max, long *out) {
  if (!text || *text < '0' || *text > '9') return 0;
  char *rest;
  errno = 0;
  long n = strtol(text, &rest, 10);
  if (errno || *rest || n > max) return 0;
  *out = n;
  return 1;
}

/* Fills `slots` (n + 1 entries, the last left NULL) with the next n fields. */
static int fields(char **p, char *end, char **slots, long n) {
  for (long i = 0; i < n; i++)
    if (!(slots[i] = field(p, end))) return 0;
  return 1;
}

struct request {
  char *id, *file, *cwd, *out, *err, *status;
  long uid, gid; /* -1: keep the helper's */
  char **argv, **envp; /* allocated: freed by the caller, also after a failed parse */
};

/*
 * Parses a record: 0, or EINVAL when malformed, or ENOMEM. Records come only from the runner, but a
 * malformed one must not read past the buffer: every walk is bounded by `end`. r->id stays NULL unless
 * the id is readable (without one there is nobody to answer; the runner only sends decimal ids).
 */
static int parse(char *body, size_t len, struct request *r) {
  char *p = body, *end = body + len;
  char *id = field(&p, end);
  if (!id || !*id || strlen(id) >= sizeof children[0].id || strspn(id, "0123456789") != strlen(id)) return EINVAL;
  r->id = id;
  r->file = field(&p, end);
  r->cwd = field(&p, end);
  r->out = field(&p, end);
  r->err = field(&p, end);
  char *uid_text = field(&p, end), *gid_text = field(&p, end);
  r->status = field(&p, end);
  if (!r->file || !r->cwd || !r->out || !r->err || !uid_text || !gid_text || !r->status) return EINVAL;
  r->uid = r->gid = -1;
  if (*uid_text && !count(uid_text, 0x7fffffffL, &r->uid)) return EINVAL;
  if (*gid_text && !count(gid_text, 0x7fffffffL, &r->gid)) return EINVAL;
  long argc, envc;
  char *argc_text = field(&p, end);
  if (!count(argc_text, end - p, &argc) || argc < 1) return EINVAL;
  if (!(r->argv = calloc((size_t)argc + 1, sizeof *r->argv))) return ENOMEM;
  if (!fields(&p, end, r->argv, argc)) return EINVAL;
  char *envc_text = field(&p, end);
  if (!count(envc_text, end - p, &envc)) return EINVAL;
  if (!(r->envp = calloc((size_t)envc + 1, sizeof *r->envp))) return ENOMEM;
  if (!fields(&p, end, r->envp, envc) || p != end) return EINVAL;
  return 0;
}

/* Opens `path` onto descriptor `target`. */
static int open_onto(const char *path, int flags, mode_t mode, int target) {
  int fd = open(path, flags, mode);
  if (fd < 0) return errno;
  if (fd != target) {
    if (dup2(fd, target) < 0) return errno;
    close(fd);
  }
  return 0;
}

/* In the forked child: set up the command's process and exec it. Returns an errno only on failure. */
static int child_exec(const struct request *r, const char *exe) {
  sigset_t none;
  sigemptyset(&none);
  for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
  sigprocmask(SIG_SETMASK, &none, NULL);
  if (setsid() < 0 || chdir(r->cwd) < 0) return errno;
  int rc;
  if ((rc = open_onto("/dev/null", O_RDONLY, 0, 0))) return rc;
  if ((rc = open_onto(r->out, O_WRONLY | O_CREAT | O_TRUNC, 0644, 1))) return rc;
  if (strcmp(r->out, r->err) == 0) {
    if (dup2(1, 2) < 0) return errno;
  } else if ((rc = open_onto(r->err, O_WRONLY | O_CREAT | O_TRUNC, 0644, 2))) {
    return rc;
  }
  int first = 3;
  if (*r->status) {
    if ((rc = open_onto(r->status, O_WRONLY | O_CREAT | O_TRUNC, 0600, 3))) return rc;
    first = 4;
  }
  /* Nothing else reaches the command: every other descriptor closes on exec (the error pipe too). */
  if (syscall(SYS_close_range, (unsigned)first, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
    long max = sysconf(_SC_OPEN_MAX);
    for (int fd = first; fd < (max > 0 ? max : 65536); fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  if (r->gid >= 0 && (setgroups(0, NULL) < 0 || setgid((gid_t)r->gid) < 0)) return errno;
  if (r->uid >= 0 && setuid((uid_t)r->uid) < 0) return errno;
  execve(exe, r->argv, r->envp);
  return errno;
}

/*
 * Forks (cheap from this small process) for what posix_spawn cannot do: change user, give fd 3. A
 * close-on-exec pipe tells whether exec happened: EOF means it did, an int is the errno it failed with.
 */
static int launch_forked(const struct request *r, const char *exe, pid_t *pid) {
  int ep[2];
  if (pipe2(ep, O_CLOEXEC) < 0) return errno;
  /* Keep the error pipe clear of 0..3, which the child rearranges. */
  int hi = fcntl(ep[1], F_DUPFD_CLOEXEC, 100);
  close(ep[1]);
  if (hi < 0) {
    int e = errno;
    close(ep[0]);
    return e;
  }
  pid_t child = fork();
  if (child < 0) {
    int e = errno;
    close(ep[0]);
    close(hi);
    return e;
  }
  if (child == 0) {
    close(ep[0]);
    int e = child_exec(r, exe);
    ssize_t ignored = write(hi, &e, sizeof e);
    (void)ignored;
    _exit(127);
  }
  close(hi);
  int e = 0;
  ssize_t n;
  do n = read(ep[0], &e, sizeof e);
  while (n < 0 && errno == EINTR);
  close(ep[0]);
  if (n == (ssize_t)sizeof e) {
    waitpid(child, NULL, 0);
    return e ? e : EIO;
  }
  *pid = child;
  return 0;
}

/* Starts the command: 0 with *pid set, or an errno. */
static int launch(const struct request *r, pid_t *pid) {
  char pathbuf[PATH_MAX];
  const char *exe = resolve(r->file, r->envp, r->cwd, pathbuf, sizeof pathbuf);
  if (!exe) return ENOENT;
  if (r->uid >= 0 || r->gid >= 0 || *r->status) return launch_forked(r, exe, pid);
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  sigset_t none, all;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, r->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (strcmp(r->out, r->err) == 0) posix_spawn_file_actions_adddup2(&fa, 1, 2);
  else posix_spawn_file_actions_addopen(&fa, 2, r->err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 34)
  /* Descriptors the agent inherited without FD_CLOEXEC (from whatever started it) stay out of commands. */
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
  posix_spawn_file_actions_addchdir_np(&fa, r->cwd);
  posix_spawnattr_init(&attr);
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  int rc = posix_spawn(pid, exe, &fa, &attr, r->argv, r->envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  return rc;
}

static void start(char *body, size_t len) {
  struct request r = {0};
  pid_t pid = 0;
  int rc = parse(body, len, &r);
  if (rc == 0) rc = launch(&r, &pid);
  if (r.id) {
    char line[128];
    if (rc == 0) {
      remember(pid, r.id);
      snprintf(line, sizeof line, "P %s %d\n", r.id, (int)pid);
    } else {
      snprintf(line, sizeof line, "E %s %d\n", r.id, rc);
    }
    reply(line);
  }
  free(r.argv);
  free(r.envp);
}

static void reap(void) {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    for (size_t i = 0; i < nchildren; i++) {
      if (children[i].pid != pid) continue;
      char line[128];
      kill(-pid, SIGKILL); /* whatever the command left in its group dies with it */
      if (WIFSIGNALED(status)) snprintf(line, sizeof line, "X %s -1 %d\n", children[i].id, WTERMSIG(status));
      else snprintf(line, sizeof line, "X %s %d 0\n", children[i].id, WEXITSTATUS(status));
      children[i] = children[--nchildren];
      reply(line);
      break;
    }
  }
}

int main(void) {
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  signal(SIGPIPE, SIG_IGN);
  int sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0) return 1;

  size_t cap = 1 << 16, used = 0;
  char *buf = malloc(cap);
  if (!buf) return 1;
  struct pollfd fds[2] = {{.fd = 0, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (fds[1].revents & POLLIN) {
      struct signalfd_siginfo info;
      while (read(sfd, &info, sizeof info) == sizeof info) {
      }
      reap();
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (cap - used < 4096) {
        cap *= 2;
        buf = realloc(buf, cap);
        if (!buf) return 1;
      }
      ssize_t n = read(0, buf + used, cap - used);
      if (n <= 0) {
        if (n < 0 && errno == EINTR) continue;
        for (size_t i = 0; i < nchildren; i++) kill(-children[i].pid, SIGKILL);
        return 0;
      }
      used += (size_t)n;
      size_t off = 0;
      while (used - off >= 4) {
        uint32_t len = (uint32_t)(unsigned char)buf[off] | (uint32_t)(unsigned char)buf[off + 1] << 8 |
                       (uint32_t)(unsigned char)buf[off + 2] << 16 | (uint32_t)(unsigned char)buf[off + 3] << 24;
        if (used - off - 4 < len) {
          if ((size_t)len + 4 > cap) {
            cap = (size_t)len + 4 + 4096;
            buf = realloc(buf, cap);
            if (!buf) return 1;
          }
          break;
        }
        start(buf + off + 4, len);
        off += 4 + len;
      }
      memmove(buf, buf + off, used - off);
      used -= off;
    }
  }
}
