/*
 * Helpers shared by shoal-spawn (the agent's root helper) and shoal-sandbox-init (the process inside each
 * warm sandbox): bounded parsing of NUL-separated records, writing whole buffers, PATH resolution.
 * Header-only so that the init, which is linked statically, needs nothing else.
 */
#ifndef SHOAL_COMMON_H
#define SHOAL_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A cursor over a record of NUL-terminated fields; every walk is bounded by `end`. */
struct cursor {
  char *p, *end;
};

/* The next field, or NULL when the record ends before its NUL. */
static inline char *next_field(struct cursor *c) {
  if (c->p >= c->end) return NULL;
  char *nul = memchr(c->p, '\0', (size_t)(c->end - c->p));
  if (!nul) return NULL;
  char *f = c->p;
  c->p = nul + 1;
  return f;
}

/* A decimal count field of at most `max`; 0 when malformed. */
static inline int next_count(struct cursor *c, long max, long *out) {
  char *text = next_field(c);
  if (!text || *text < '0' || *text > '9') return 0;
  char *rest;
  errno = 0;
  long n = strtol(text, &rest, 10);
  if (errno || *rest || n > max) return 0;
  *out = n;
  return 1;
}

/* A signed decimal field (for limits where -1 means none); 0 when malformed. */
static inline int next_long(struct cursor *c, long long *out) {
  char *text = next_field(c);
  if (!text || !*text) return 0;
  char *rest;
  errno = 0;
  long long n = strtoll(text, &rest, 10);
  if (errno || *rest) return 0;
  *out = n;
  return 1;
}

/*
 * Reads a counted list of fields into a NULL-terminated array allocated here (freed by the caller, also
 * after a failure). Each field takes at least one byte, which bounds the count by what is left.
 */
static inline int next_list(struct cursor *c, char ***out) {
  long n;
  *out = NULL;
  if (!next_count(c, c->end - c->p, &n)) return 0;
  char **list = calloc((size_t)n + 1, sizeof *list);
  if (!list) return 0;
  *out = list;
  for (long i = 0; i < n; i++)
    if (!(list[i] = next_field(c))) return 0;
  return 1;
}

static inline int write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Resolves `file` like execvp would, with the command's own PATH (from its environment). */
static inline const char *resolve_command(const char *file, char *const envp[], const char *cwd, char *buf,
                                          size_t size) {
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

/* The largest request either program accepts: argv and environment included. */
#define SHOAL_MAX_RECORD (8u << 20)

#endif
