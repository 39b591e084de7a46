/* The parts of shoal-spawn: plain launches, cgroups, warm sandboxes; see shoal-spawn.c for the protocol. */
#ifndef SHOAL_SPAWN_H
#define SHOAL_SPAWN_H

#include "common.h"

#include <poll.h>
#include <sys/types.h>

/* One line to the runner (stdout). */
void reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- plain launches (sandbox off): posix_spawn, or fork to change user ---- */
void plain_launch(struct cursor *c);
/* 1 when `pid` was a plain launch (its exit is reported). */
int plain_reap(pid_t pid, int status);
int plain_signal(const char *id, int sig);
void plain_kill_all(void);

/* ---- cgroups: one per sandboxed attempt, under the parents given on the command line ---- */
#define CG_MAX_HIERARCHIES 8

struct cg_limits {
  long long memory_bytes; /* -1: none */
  long long cpu_millis;   /* -1: none */
  long long pids;         /* -1: none */
};

struct cg_usage {
  long long cpu_us, peak_bytes, oom_kills, pids_hits;
};

struct cg {
  char name[64];
  int created;
};

/* Parses --cgroup-v1 kind=dir... / --cgroup-v2 dir; returns how many argv entries it used, -1 on error. */
int cgroup_configure(int argc, char **argv);
int cgroup_enabled(void);
/* Creates the cgroup with its limits and opens the cgroup.procs of each hierarchy into fds (at most
 * CG_MAX_HIERARCHIES). 0, or -1 with a message in err. */
int cgroup_create(struct cg *cg, const char *name, const struct cg_limits *limits, int *fds, int *nfds, char *err,
                  size_t errlen);
void cgroup_usage(const struct cg *cg, struct cg_usage *usage);
long long cgroup_pids_hits(const struct cg *cg);
void cgroup_kill(const struct cg *cg);
/* 0 once removed (or never made), -1 while processes are still leaving it. */
int cgroup_remove(struct cg *cg);

/* ---- warm sandboxes ---- */
void sandbox_open(struct cursor *c);
void sandbox_run(struct cursor *c, char *record_end);
void sandbox_close(struct cursor *c);
int sandbox_signal(const char *id, int sig);
int sandbox_reap(pid_t pid, int status);
/* Adds the control sockets to poll; `first` is where they start in fds. */
int sandbox_poll_fds(struct pollfd *fds, int max);
void sandbox_poll_events(struct pollfd *fds, int n);
/* Periodic work: the process limit, cgroups still to remove. 1 while there is any. */
int sandbox_tick(void);
void sandbox_kill_all(void);

#endif
