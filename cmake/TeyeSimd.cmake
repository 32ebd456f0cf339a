# simdjson's On-Demand API is compiled for the CPU the including file targets: without flags it
# falls back to its portable (slow) kernel. teye's JSON hot path is built for x86-64-v3 plus
# PCLMUL (AVX2, BMI, LZCNT, PCLMUL: every x86 GPU host of the last decade) unless TEYE_PORTABLE
# is ON. x86-64-v3 alone lacks PCLMUL, and simdjson needs all four to use its Haswell kernel.
# The reader checks the CPU at run time and says how to rebuild instead of crashing.
option(TEYE_PORTABLE "Build the JSON hot path for any x86-64 CPU (slower)" OFF)
set(TEYE_SIMD_FLAGS "")
if(NOT TEYE_PORTABLE AND CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  include(CheckCXXCompilerFlag)
  check_cxx_compiler_flag(-march=x86-64-v3 TEYE_HAS_X86_64_V3)
  if(TEYE_HAS_X86_64_V3)
    set(TEYE_SIMD_FLAGS -march=x86-64-v3 -mpclmul)
  endif()
endif()
