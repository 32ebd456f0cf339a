#!/usr/bin/env bash
# Builds .gpu_carry/: what the GPU validation run (scripts/gpu/validate.sh) needs on a machine
# where nothing can be installed — teye and the collector built here with CUPTI, the Python shim,
# samples/cuda_train built for Hopper (sm_90, plus PTX), and the shared libraries teye links
# that such a machine lacks (simdjson, fmt, RE2, ISA-L). teye finds them through its RPATH
# ($ORIGIN/../lib), so no LD_LIBRARY_PATH leaks into the jobs it records.
#
#   scripts/gpu/carry.sh            (then name .gpu_carry in the device tool's `carry`)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CARRY=$ROOT/.gpu_carry
BUILD=${BUILD_DIR:-$ROOT/build}
NVCC=${NVCC:-/usr/local/cuda/bin/nvcc}

command -v patchelf >/dev/null || { echo "carry.sh: needs patchelf (apt-get install patchelf)" >&2; exit 2; }
cmake --build "$BUILD" --target teye teye_collector >/dev/null
grep -qa cuptiActivityRegisterCallbacks "$BUILD/libteye_collector.so" ||
  { echo "carry.sh: $BUILD/libteye_collector.so has no CUPTI backend (CUDA toolkit missing?)" >&2; exit 2; }

rm -rf "$CARRY"
mkdir -p "$CARRY/bin/teye-python" "$CARRY/lib"
cp "$BUILD/teye" "$BUILD/libteye_collector.so" "$CARRY/bin/"
cp "$ROOT/collectors/python/sitecustomize.py" "$CARRY/bin/teye-python/"
strip --strip-debug "$CARRY/bin/teye" "$CARRY/bin/libteye_collector.so"

# The libraries of ours that a stock CUDA image does not have. glibc, libstdc++, libgcc and zlib
# are left to the machine (newer there; carrying older ones would be picked by the jobs too).
ldd "$CARRY/bin/teye" | awk '/=> \// {print $3}' | while read -r lib; do
  case "$(basename "$lib")" in
    libsimdjson*|libfmt*|libre2*|libisal*) cp -L "$lib" "$CARRY/lib/" ;;
  esac
done
patchelf --set-rpath '$ORIGIN/../lib' "$CARRY/bin/teye"

# cuda_train for the H200 (sm_90) with PTX for anything newer; cuBLAS and NCCL come from the
# machine (the toolkit's or PyTorch's wheels: validate.sh finds them).
if [ -x "$NVCC" ]; then
  "$NVCC" -std=c++17 -O2 -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90 \
    -I/usr/local/cuda/include -o "$CARRY/bin/cuda_train" "$ROOT/samples/cuda_train/train.cu" \
    -lcublas -lnccl -lpthread -ldl
fi
# The collector's CUPTI test (tests/collector/cupti_test.cpp), to run against the real GPU. It
# names its programs by their build-tree paths; paths.txt tells validate.sh where to put them.
cmake --build "$BUILD" --target teye_collector_cupti_tests >/dev/null
mkdir -p "$CARRY/tests"
: >"$CARRY/tests/paths.txt"
cmake --build "$BUILD" --target teye_cupti_job >/dev/null
for f in tests/collector/teye_collector_cupti_tests tests/collector/teye_cupti_probe \
         tests/collector/teye_cuda_probe tests/collector/teye_cupti_job \
         tests/collector/fake_cupti/libcupti.so.13 libteye_collector.so; do
  [ -f "$BUILD/$f" ] || continue
  cp "$BUILD/$f" "$CARRY/tests/"
  echo "$(basename "$f") $BUILD/$f" >>"$CARRY/tests/paths.txt"
done
patchelf --set-rpath '$ORIGIN/../lib' "$CARRY/tests/teye_collector_cupti_tests"
strip --strip-debug "$CARRY/tests/teye_collector_cupti_tests"
du -sh "$CARRY"
ls -l "$CARRY/bin" "$CARRY/lib"
