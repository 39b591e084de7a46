/*
 * Plain launches (the runner's sandbox is off): posix_spawn (vfork-fast, no copy of a large parent's page
 * tables). Each command gets its own session (so the runner can signal the whole process group), stdin
 * from /dev/null, stdout/stderr opened on the given files, and no other descriptor (glibc >= 2.34).
 *
 * Record (after the kind "L"): id, file, cwd, stdout path, stderr path, argc, argv[0..argc), envc,
 * env[0..envc).
 */
#include "spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

struct child {
  pid_t pid;
  char id[32];
};

static struct child *children;
static size_t nchildren, capchildren;

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

struct request {
  char *id, *file, *cwd, *out, *err;
  char **argv, **envp; /* allocated: freed by the caller, also after a failed parse */
};

static int parse_id(const char *id) {
  return id && *id && strlen(id) < sizeof children[0].id && strspn(id, "0123456789") == strlen(id);
}

/* 0, or EINVAL when malformed. r->id stays NULL unless readable (without one nobody can be answered). */
static int parse(struct cursor *c, struct request *r) {
  char *id = next_field(c);
  if (!parse_id(id)) return EINVAL;
  r->id = id;
  r->file = next_field(c);
  r->cwd = next_field(c);
  r->out = next_field(c);
  r->err = next_field(c);
  if (!r->file || !r->cwd || !r->out || !r->err) return EINVAL;
  if (!next_list(c, &r->argv) || !r->argv[0]) return EINVAL;
  if (!next_list(c, &r->envp) || c->p != c->end) return EINVAL;
  return 0;
}

/* Starts the command: 0 with *pid set, or an errno. */
static int launch(const struct request *r, pid_t *pid) {
  char pathbuf[PATH_MAX];
  const char *exe = resolve_command(r->file, r->envp, r->cwd, pathbuf, sizeof pathbuf);
  if (!exe) return ENOENT;
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

void plain_launch(struct cursor *c) {
  struct request r = {0};
  pid_t pid = 0;
  int rc = parse(c, &r);
  if (rc == 0) rc = launch(&r, &pid);
  if (r.id) {
    if (rc == 0) {
      remember(pid, r.id);
      reply("P %s %d\n", r.id, (int)pid);
    } else {
      reply("E %s %d\n", r.id, rc);
    }
  }
  free(r.argv);
  free(r.envp);
}

int plain_reap(pid_t pid, int status) {
  for (size_t i = 0; i < nchildren; i++) {
    if (children[i].pid != pid) continue;
    kill(-pid, SIGKILL); /* whatever the command left in its group dies with it */
    if (WIFSIGNALED(status)) reply("X %s -1 %d -1 -1 -1 -1\n", children[i].id, WTERMSIG(status));
    else reply("X %s %d 0 -1 -1 -1 -1\n", children[i].id, WEXITSTATUS(status));
    children[i] = children[--nchildren];
    return 1;
  }
  return 0;
}

int plain_signal(const char *id, int sig) {
  for (size_t i = 0; i < nchildren; i++) {
    if (strcmp(children[i].id, id)) continue;
    kill(-children[i].pid, sig);
    return 1;
  }
  return 0;
}

void plain_kill_all(void) {
  for (size_t i = 0; i < nchildren; i++) kill(-children[i].pid, SIGKILL);
}
