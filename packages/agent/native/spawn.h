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

/* ---- cgroups: one per warm sandbox, under the parents given on the command line, reused by its
 * consecutive attempts while each leaves it clean (see spawn-cgroup.c) ---- */
#define CG_MAX_HIERARCHIES 8

struct cg_limits {
  long long memory_bytes; /* -1: none */
  long long cpu_millis;   /* -1: none */
  long long pids;         /* -1: none */
};

struct cg_usage {
  long long cpu_us, peak_bytes, oom_kills, pids_hits;
};

/* Control files kept open for the cgroup's life: reading them per attempt costs no path walk. */
enum cg_file { CG_CPU_USAGE, CG_PEAK, CG_CURRENT, CG_OOM, CG_PIDS_EVENTS, CG_PIDS_CURRENT, CG_NFILES };

struct cg {
  char name[64];
  int created;
  int procs[CG_MAX_HIERARCHIES]; /* cgroup.procs of each hierarchy, for the attempt leader to join */
  int nprocs;
  int files[CG_NFILES];          /* -1 where this host has no such file */
  int peak_resets;               /* the peak can be reset between attempts (else: one attempt only) */
  struct cg_limits limits;       /* as written; -2 = not written yet */
  struct cg_usage base;          /* cumulative counters when the current attempt began */
};

/* Parses --cgroup-v1 kind=dir... / --cgroup-v2 dir; returns how many argv entries it used, -1 on error. */
int cgroup_configure(int argc, char **argv);
int cgroup_enabled(void);
/* Creates the cgroup and opens its control files. 0, or -1 with a message in err. */
int cgroup_create(struct cg *cg, const char *name, char *err, size_t errlen);
/* Writes the limits that differ from those in force. 0, or -1 with a message in err. */
int cgroup_limit(struct cg *cg, const struct cg_limits *limits, char *err, size_t errlen);
/* Starts an attempt's accounting: the peak reset, the counters taken as its zero. -1 when either failed. */
int cgroup_begin(struct cg *cg);
/* What the attempt used since cgroup_begin. */
void cgroup_usage(const struct cg *cg, struct cg_usage *usage);
/* Process-limit hits since cgroup_begin, -1 when not counted. */
long long cgroup_pids_hits(const struct cg *cg);
/* Whether the next attempt may run in it: the peak can be reset, and the ended attempt left at most
 * its exiting leader (and the next one's, parked) and a little page cache charged to it. */
int cgroup_reusable(const struct cg *cg);
void cgroup_kill(const struct cg *cg);
/* Closes the control files, kills what is left; 0 once removed (or never made), -1 while processes are
 * still leaving it (call again). */
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
