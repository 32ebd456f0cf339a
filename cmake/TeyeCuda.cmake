# CUDA is optional. TEYE_WITH_CUPTI=AUTO builds the collector's CUPTI backend when the toolkit's
# CUPTI headers and library are found under TEYE_CUDA_ROOT; ON requires them; OFF never builds it.
# Everything else (model, import, analyzers, reports, CLI, the collector's NVTX/I/O/fork parts)
# builds and tests without CUDA.
string(TOUPPER "${TEYE_WITH_CUPTI}" _teye_cupti_mode)
if(NOT _teye_cupti_mode MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "TEYE_WITH_CUPTI must be AUTO, ON or OFF (got '${TEYE_WITH_CUPTI}')")
endif()

set(TEYE_HAVE_CUPTI OFF)
set(TEYE_HAVE_NVTX OFF)
if(NOT _teye_cupti_mode STREQUAL "OFF")
  find_path(TEYE_CUPTI_INCLUDE_DIR cupti_activity.h
            HINTS ${TEYE_CUDA_ROOT}/include ${TEYE_CUDA_ROOT}/extras/CUPTI/include NO_DEFAULT_PATH)
  find_path(TEYE_CUDA_INCLUDE_DIR cuda.h HINTS ${TEYE_CUDA_ROOT}/include NO_DEFAULT_PATH)
  find_library(TEYE_CUPTI_LIBRARY cupti
               HINTS ${TEYE_CUDA_ROOT}/lib64 ${TEYE_CUDA_ROOT}/extras/CUPTI/lib64 NO_DEFAULT_PATH)
  if(TEYE_CUPTI_INCLUDE_DIR AND TEYE_CUDA_INCLUDE_DIR AND TEYE_CUPTI_LIBRARY)
    set(TEYE_HAVE_CUPTI ON)
  elseif(_teye_cupti_mode STREQUAL "ON")
    message(FATAL_ERROR "TEYE_WITH_CUPTI=ON but CUPTI was not found under '${TEYE_CUDA_ROOT}'. "
                        "Set -DTEYE_CUDA_ROOT=/path/to/cuda, or -DTEYE_WITH_CUPTI=OFF to build without it.")
  else()
    message(STATUS "CUPTI not found under ${TEYE_CUDA_ROOT}: the collector's CUPTI backend is off")
  endif()
endif()

# NVTX 3 is header-only; the collector can use the toolkit's copy when present.
find_path(TEYE_NVTX_INCLUDE_DIR nvtx3/nvToolsExt.h HINTS ${TEYE_CUDA_ROOT}/include NO_DEFAULT_PATH)
if(TEYE_NVTX_INCLUDE_DIR)
  set(TEYE_HAVE_NVTX ON)
endif()
