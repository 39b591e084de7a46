/*
 * shoal-syncfs: makes whole filesystems durable on request, for a worker's group flush of its uploads.
 *
 * A group of finished attempts leaves dozens of new objects (outputs, stdout and stderr); flushing each
 * file and its directory one by one costs a round trip through Node's thread pool per file, and the disk
 * commits them one at a time. syncfs(2) writes back everything dirty on one filesystem in one call (64 small
 * files: 1.5 ms against 10-17 ms of fdatasync one after the other, on this machine's ext4).
 *
 * Protocol on stdin/stdout. A request: one or more absolute paths, each ended by NUL, then '\n'. Each
 * path is opened and the filesystem holding it is synced, once per distinct filesystem of the request.
 * The reply: one line, "0" when every sync succeeded, or the errno of the first that failed. Exits at EOF.
 */
#include "common.h" /* first: it defines _GNU_SOURCE, which syncfs(2) needs */

#include <fcntl.h>
#include <sys/stat.h>

#define MAX_REQUEST (1 << 20)
#define MAX_DEVICES 64

static int sync_request(char *p, char *end) {
  dev_t devices[MAX_DEVICES];
  int known = 0;
  while (p < end) {
    char *path = p;
    char *nul = memchr(p, '\0', (size_t)(end - p));
    if (!nul) return EINVAL;
    p = nul + 1;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
      // Gone since it was written (deleted with its job): nothing of it to make durable.
      if (errno == ENOENT) continue;
      return errno;
    }
    struct stat st;
    int err = 0;
    if (fstat(fd, &st) != 0) {
      err = errno;
    } else {
      int seen = 0;
      for (int i = 0; i < known; i++)
        if (devices[i] == st.st_dev) seen = 1;
      if (!seen) {
        if (syncfs(fd) != 0) err = errno;
        else if (known < MAX_DEVICES) devices[known++] = st.st_dev;
      }
    }
    close(fd);
    if (err) return err;
  }
  return 0;
}

int main(void) {
  static char buf[MAX_REQUEST];
  size_t have = 0;
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buf + have, sizeof buf - have);
    if (n < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (n == 0) return 0;
    have += (size_t)n;
    // Requests end with "\0\n"; a path never holds NUL, so that pair only ever ends one.
    size_t start = 0;
    for (size_t i = 1; i < have; i++) {
      if (buf[i] != '\n' || buf[i - 1] != '\0') continue;
      int err = sync_request(buf + start, buf + i);
      char reply[16];
      int len = snprintf(reply, sizeof reply, "%d\n", err);
      if (write_all(STDOUT_FILENO, reply, (size_t)len) != 0) return 1;
      start = i + 1;
    }
    if (start == 0 && have == sizeof buf) return 1; /* a request larger than the buffer: refuse it */
    memmove(buf, buf + start, have - start);
    have -= start;
  }
}
