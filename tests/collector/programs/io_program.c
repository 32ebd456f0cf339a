/* A small job for the collector's interposition tests. Modes:
 *   read DIR         reads DIR/a.bin with read, pread, readv and fread, prints the byte count
 *   fork DIR N       N forked workers each read DIR/w<i>.bin and leave with _exit (the last one
 *                    with exit); the parent waits, reads DIR/a.bin, exits 0
 *   loop DIR         prints "ready", then reads DIR/a.bin every 5 ms until killed
 *   handler DIR      as loop, with its own SIGTERM handler that prints "handled" and exits 3
 *   late DIR LIB     installs the handler, then dlopens LIB (the collector, loaded late), loops
 *   dup DIR          reads DIR/a.bin through descriptors made by dup, dup2, dup3,
 *                    fcntl(F_DUPFD_CLOEXEC) and fdopen(dup(fd)) (numpy's way), 100 bytes each;
 *                    prints the byte count
 *   sigread DIR      for a second, reads DIR/a.bin over and over while a SIGALRM handler fired
 *                    every 50 us opens and reads DIR/a.bin too (256 bytes), then prints
 *                    "handler read" when the handler completed reads, and exits 0
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
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

static long read_through_copies(const char* path) {
  char buf[100];
  long total = 0;
  const int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  const int a = dup(fd);
  total += read(a, buf, sizeof buf);
  const int b = dup2(fd, 50);
  total += read(b, buf, sizeof buf);
  const int c = dup3(fd, 51, O_CLOEXEC);
  total += read(c, buf, sizeof buf);
  const int d = fcntl(fd, F_DUPFD_CLOEXEC, 60);
  total += read(d, buf, sizeof buf);
  FILE* f = fdopen(dup(fd), "rb");
  if (f) {
    total += (long)fread(buf, 1, sizeof buf, f);
    fclose(f);
  }
  close(a);
  close(b);
  close(c);
  close(d);
  close(fd);
  return total;
}

static char g_alarm_file[4096];
static volatile long g_alarm_reads;

static void on_alarm(int sig) {
  (void)sig;
  const int saved = errno;
  char buf[256];
  const int fd = open(g_alarm_file, O_RDONLY);
  if (fd >= 0) {
    if (read(fd, buf, sizeof buf) == (ssize_t)sizeof buf) ++g_alarm_reads;
    close(fd);
  }
  errno = saved;
}

static int read_under_signals(const char* file) {
  snprintf(g_alarm_file, sizeof g_alarm_file, "%s", file);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval every = {{0, 50}, {0, 50}};
  setitimer(ITIMER_REAL, &every, NULL);
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  long total = 0;
  do {
    total += read_all(file);
    clock_gettime(CLOCK_MONOTONIC, &now);
  } while (now.tv_sec - start.tv_sec < 1);
  struct itimerval off;
  memset(&off, 0, sizeof off);
  setitimer(ITIMER_REAL, &off, NULL);
  if (g_alarm_reads > 0 && total > 0) printf("handler read\n");
  return 0;
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
  if (!strcmp(mode, "sigread")) return read_under_signals(file);
  if (!strcmp(mode, "dup")) {
    printf("%ld\n", read_through_copies(file));
    return 0;
  }
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
