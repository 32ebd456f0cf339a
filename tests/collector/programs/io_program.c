/* A small job for the collector's interposition tests. Modes:
 *   read DIR         reads DIR/a.bin with read, pread, readv and fread, prints the byte count
 *   fork DIR N       N forked workers each read DIR/w<i>.bin and leave with _exit (the last one
 *                    with exit); the parent waits, reads DIR/a.bin, exits 0
 *   loop DIR         prints "ready", then reads DIR/a.bin every 5 ms until killed
 *   handler DIR      as loop, with its own SIGTERM handler that prints "handled" and exits 3
 *   late DIR LIB     installs the handler, then dlopens LIB (the collector, loaded late), loops
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long read_all(const char* path) {
  char buf[4096];
  long total = 0;
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    perror(path);
    return -1;
  }
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0)
    total += n;
  close(fd);
  return total;
}

static long read_every_way(const char* path) {
  char a[1000], b[1000];
  long total = 0;
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  total += read(fd, a, sizeof a);
  total += pread(fd, a, sizeof a, 2000);
  struct iovec iov[2] = {{a, sizeof a}, {b, sizeof b}};
  total += readv(fd, iov, 2);
  close(fd);
  FILE* f = fopen(path, "rb");
  if (f) {
    total += (long)fread(a, 1, sizeof a, f);
    fclose(f);
  }
  return total;
}

static void on_term(int sig) {
  (void)sig;
  static const char msg[] = "handled\n";
  write(1, msg, sizeof msg - 1);
  exit(3);
}

static void loop(const char* file) {
  printf("ready\n");
  fflush(stdout);
  struct timespec pause = {0, 5 * 1000 * 1000};
  for (;;) {
    read_all(file);
    nanosleep(&pause, NULL);
  }
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: io_program MODE DIR ...\n");
    return 2;
  }
  const char* mode = argv[1];
  char file[4096];
  snprintf(file, sizeof file, "%s/a.bin", argv[2]);
  if (!strcmp(mode, "read")) {
    printf("%ld\n", read_every_way(file));
    return 0;
  }
  if (!strcmp(mode, "fork") && argc >= 4) {
    int workers = atoi(argv[3]);
    for (int i = 0; i < workers; ++i) {
      pid_t pid = fork();
      if (pid == 0) {
        char wfile[4096];
        snprintf(wfile, sizeof wfile, "%s/w%d.bin", argv[2], i);
        long n = read_all(wfile);
        if (i == workers - 1) exit(n > 0 ? 0 : 1);
        _exit(n > 0 ? 0 : 1);
      }
    }
    int failed = 0, status;
    while (wait(&status) > 0)
      failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    printf("parent read %ld\n", read_all(file));
    return failed;
  }
  if (!strcmp(mode, "loop")) loop(file);
  if (!strcmp(mode, "handler")) {
    signal(SIGTERM, on_term);
    loop(file);
  }
  if (!strcmp(mode, "late") && argc >= 4) {
    signal(SIGTERM, on_term);
    if (!dlopen(argv[3], RTLD_NOW | RTLD_LOCAL)) {
      fprintf(stderr, "dlopen: %s\n", dlerror());
      return 2;
    }
    loop(file);
  }
  fprintf(stderr, "unknown mode %s\n", mode);
  return 2;
}
