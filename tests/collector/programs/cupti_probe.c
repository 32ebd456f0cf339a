/* Prints, asks for CUDA injection the way the driver does (twice), and exits 7: the collector
 * must report CUPTI unavailable once and change neither output nor exit code. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>

int main(void) {
  printf("probe output 42\n");
  char buf[256];
  FILE* f = fopen("/proc/self/cmdline", "rb"); /* something for the collector to record */
  if (f) {
    fread(buf, 1, sizeof buf, f);
    fclose(f);
  }
  int (*init)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "InitializeInjection");
  if (init) {
    init();
    init();
  }
  printf("probe done\n");
  return 7;
}
