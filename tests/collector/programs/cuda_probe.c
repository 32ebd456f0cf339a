/* A CUDA program (linked with libcudart). It asks for devices and prints the answer; where there
 * is a GPU it also sets, copies and frees one MiB on device 0 (GPU activity for the collector to
 * record). It exits 5. With the collector injected, output and exit code must not change. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

int cudaGetDeviceCount(int* count);
const char* cudaGetErrorString(int error);
int cudaMalloc(void** ptr, size_t size);
int cudaMemset(void* ptr, int value, size_t count);
int cudaMemcpy(void* dst, const void* src, size_t count, int kind);
int cudaFree(void* ptr);

enum { kBytes = 1 << 20, kDeviceToHost = 2 };

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
  if (err == 0 && count > 0) {
    void* device = NULL;
    unsigned char* host = malloc(kBytes);
    int ok = host && cudaMalloc(&device, kBytes) == 0 && cudaMemset(device, 7, kBytes) == 0 &&
             cudaMemcpy(host, device, kBytes, kDeviceToHost) == 0 && host[kBytes - 1] == 7;
    if (device) cudaFree(device);
    free(host);
    printf("one MiB set and copied back: %s\n", ok ? "ok" : "failed");
  }
  return 5;
}
