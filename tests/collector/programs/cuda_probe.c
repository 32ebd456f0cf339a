/* A CUDA program (linked with libcudart) on a machine without a GPU: it asks for devices, prints
 * the answer and exits 5. With the collector injected, output and exit code must not change. */
#include <stdio.h>

int cudaGetDeviceCount(int* count);
const char* cudaGetErrorString(int error);

int main(void) {
  char buf[256];
  FILE* f = fopen("/proc/self/cmdline", "rb"); /* something for the collector to record */
  if (f) {
    fread(buf, 1, sizeof buf, f);
    fclose(f);
  }
  int count = -1;
  int err = cudaGetDeviceCount(&count);
  printf("cudaGetDeviceCount -> %d (%s), count %d\n", err, cudaGetErrorString(err), count);
  return 5;
}
