/*
 * shoal-spawn: the agent's helper for starting commands. It runs as the agent's user (root on a worker),
 * small enough that forking it is cheap, and does the work that must not sit on the agent's main thread
 * or needs privileges the sandbox drops: plain launches (spawn-plain.c), the cgroups of sandboxed attempts
 * (spawn-cgroup.c: one per warm sandbox, reused) and warm bubblewrap sandboxes that run attempts
 * (spawn-sandbox.c).
 *
 * Usage: shoal-spawn [--cgroup-v1 memory=DIR cpu=DIR cpuacct=DIR pids=DIR [kill=DIR] | --cgroup-v2 DIR]
 *
 * Protocol on stdin: records of a 4-byte little-endian length followed by NUL-terminated fields, the
 * first of which is the kind: L (plain launch), O (open a sandbox), R (run an attempt in a sandbox),
 * K id signal (signal an attempt), C sid (close a sandbox). Replies on stdout, one line each:
 *   P id pid                       started (pid 0 inside a sandbox)
 *   E id errno                     could not start (EINVAL for a malformed record)
 *   F id text                      a sandboxed attempt's sandbox could not be set up
 *   L id text                      lost: its sandbox ended under it
 *   X id code signal cpu-us peak-bytes oom-kills pids-hits
 *                                  ended (code -1 when killed by a signal; usage -1 when not measured)
 *   O sid pid                      a sandbox is ready
 *   D sid code signal [text]       a sandbox ended (or could not be opened)
 * When stdin closes (the runner's process died), every process it started is killed and it exits.
 */
#include "spawn.h"

#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>

#define MAX_POLL 300

void reply(const char *fmt, ...) {
  char line[1200];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof line) {
    n = sizeof line - 1;
    line[n - 1] = '\n';
  }
  if (write_all(1, line, (size_t)n) < 0) exit(1);
}

static void reap(void) {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    if (!plain_reap(pid, status)) sandbox_reap(pid, status);
  }
}

static void dispatch(char *body, size_t len) {
  struct cursor c = {body, body + len};
  char *kind = next_field(&c);
  if (!kind) return;
  if (!strcmp(kind, "L")) plain_launch(&c);
  else if (!strcmp(kind, "O")) sandbox_open(&c);
  else if (!strcmp(kind, "R")) sandbox_run(&c, body + len);
  else if (!strcmp(kind, "C")) sandbox_close(&c);
  else if (!strcmp(kind, "K")) {
    char *id = next_field(&c);
    long sig;
    if (id && next_count(&c, 64, &sig) && !sandbox_signal(id, (int)sig)) plain_signal(id, (int)sig);
  }
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc;) {
    int used = cgroup_configure(argc - i, argv + i);
    if (used <= 0) {
      fprintf(stderr, "shoal-spawn: bad argument %s\n", argv[i]);
      return 2;
    }
    i += used;
  }
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  signal(SIGPIPE, SIG_IGN);
  int sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (sfd < 0 || tfd < 0) return 1;
  int ticking = 0;

  size_t cap = 1 << 16, used = 0;
  char *buf = malloc(cap);
  if (!buf) return 1;
  for (;;) {
    struct pollfd fds[MAX_POLL];
    fds[0] = (struct pollfd){.fd = 0, .events = POLLIN};
    fds[1] = (struct pollfd){.fd = sfd, .events = POLLIN};
    fds[2] = (struct pollfd){.fd = tfd, .events = POLLIN};
    int nsb = sandbox_poll_fds(fds + 3, MAX_POLL - 3);
    if (poll(fds, (nfds_t)(3 + nsb), -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    /* Sandbox messages before exits: an attempt's result must be read before its sandbox's end. */
    sandbox_poll_events(fds + 3, nsb);
    if (fds[1].revents & POLLIN) {
      struct signalfd_siginfo info;
      while (read(sfd, &info, sizeof info) == sizeof info) {
      }
      reap();
    }
    if (fds[2].revents & POLLIN) {
      uint64_t expirations;
      if (read(tfd, &expirations, sizeof expirations) < 0) {
      }
      ticking = sandbox_tick();
      if (!ticking) timerfd_settime(tfd, 0, &(struct itimerspec){0}, NULL);
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
        plain_kill_all();
        sandbox_kill_all();
        return 0;
      }
      used += (size_t)n;
      size_t off = 0;
      while (used - off >= 4) {
        uint32_t len = (uint32_t)(unsigned char)buf[off] | (uint32_t)(unsigned char)buf[off + 1] << 8 |
                       (uint32_t)(unsigned char)buf[off + 2] << 16 | (uint32_t)(unsigned char)buf[off + 3] << 24;
        if (len > SHOAL_MAX_RECORD) return 1; /* the runner never sends these: the stream is broken */
        if (used - off - 4 < len) {
          if ((size_t)len + 4 > cap) {
            cap = (size_t)len + 4 + 4096;
            buf = realloc(buf, cap);
            if (!buf) return 1;
          }
          break;
        }
        dispatch(buf + off + 4, len);
        off += 4 + len;
      }
      memmove(buf, buf + off, used - off);
      used -= off;
    }
    /* Attempts with cgroups are watched (process limit) and their cgroups removed on a 100 ms tick. */
    if (!ticking && cgroup_enabled() && sandbox_tick()) {
      ticking = 1;
      struct itimerspec every = {{0, 100 * 1000 * 1000}, {0, 100 * 1000 * 1000}};
      timerfd_settime(tfd, 0, &every, NULL);
    }
  }
}
