/* A SIGALRM handler that opens, reads and closes a file, fired every few microseconds by an
 * interval timer: for jobs (the Python one loads this with ctypes) whose main thread is inside
 * read() most of the time, so that the handler's read() interrupts the collector's interposed
 * read, and sometimes the collector's own recording code.
 *
 *   int  teye_test_start_reading_handler(const char* path, int interval_us)
 *   long teye_test_stop_reading_handler(void)   -> reads the handler completed
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static char g_path[4096];
static volatile long g_reads;

static void on_alarm(int sig) {
  (void)sig;
  const int saved = errno;
  char buf[256];
  const int fd = open(g_path, O_RDONLY);
  if (fd >= 0) {
    if (read(fd, buf, sizeof buf) > 0) ++g_reads;
    close(fd);
  }
  errno = saved;
}

int teye_test_start_reading_handler(const char* path, int interval_us) {
  strncpy(g_path, path, sizeof g_path - 1);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGALRM, &sa, NULL) != 0) return -1;
  struct itimerval every = {{0, interval_us}, {0, interval_us}};
  return setitimer(ITIMER_REAL, &every, NULL);
}

long teye_test_stop_reading_handler(void) {
  struct itimerval off;
  memset(&off, 0, sizeof off);
  setitimer(ITIMER_REAL, &off, NULL);
  return g_reads;
}
