// LD_PRELOAD shim for the thread-cap tests: counts the threads a process runs at once, from
// outside teye's code. Every pthread_create is passed on to libc with its start routine wrapped so
// that the thread's end is counted too; at exit the largest number of threads alive at once (the
// main thread included) and the number ever created are written to $TEYE_THREAD_CENSUS.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static int alive = 1;  // the main thread
static int peak = 1;
static int created = 0;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

struct start {
  void* (*routine)(void*);
  void* arg;
};

static void thread_ended(void* unused) {
  (void)unused;
  pthread_mutex_lock(&mu);
  --alive;
  pthread_mutex_unlock(&mu);
}

static void* run(void* p) {
  struct start s = *(struct start*)p;
  free(p);
  void* result = NULL;
  pthread_cleanup_push(thread_ended, NULL);  // also when the thread calls pthread_exit
  result = s.routine(s.arg);
  pthread_cleanup_pop(1);
  return result;
}

int pthread_create(pthread_t* thread, const pthread_attr_t* attr, void* (*routine)(void*),
                   void* arg) {
  static int (*real)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*) = NULL;
  if (!real) real = dlsym(RTLD_NEXT, "pthread_create");
  struct start* s = malloc(sizeof *s);
  if (!s) return real(thread, attr, routine, arg);
  s->routine = routine;
  s->arg = arg;
  pthread_mutex_lock(&mu);
  ++alive;
  ++created;
  if (alive > peak) peak = alive;
  pthread_mutex_unlock(&mu);
  int rc = real(thread, attr, run, s);
  if (rc != 0) {
    free(s);
    thread_ended(NULL);
  }
  return rc;
}

__attribute__((destructor)) static void report(void) {
  const char* path = getenv("TEYE_THREAD_CENSUS");
  if (!path) return;
  FILE* f = fopen(path, "w");
  if (!f) return;
  fprintf(f, "peak %d created %d\n", peak, created);
  fclose(f);
}
