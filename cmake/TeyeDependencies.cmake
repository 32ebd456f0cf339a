# Third-party libraries, all from Debian packages (scripts/setup.sh installs them).
find_package(simdjson 3 REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(ZLIB REQUIRED)
# Nsight Systems exports are SQLite databases (libsqlite3-dev).
find_package(SQLite3 REQUIRED)
find_package(Threads REQUIRED)

# RE2: linear-time regular expressions for names from untrusted traces (std::regex recurses per
# character and overflows the stack on long kernel names). Debian ships a pkg-config file only.
find_package(PkgConfig REQUIRED)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)

# ISA-L's igzip inflates gzip traces while they are parsed (streaming, about three times zlib's
# rate). Debian ships a pkg-config file only.
pkg_check_modules(ISAL IMPORTED_TARGET libisal)
if(NOT ISAL_FOUND)
  message(FATAL_ERROR "ISA-L not found: run 'scripts/setup.sh' or 'apt-get install libisal-dev'")
endif()

if(TEYE_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(TEYE_BUILD_BENCH)
  find_package(benchmark QUIET)
  if(NOT benchmark_FOUND)
    message(STATUS "Google Benchmark not found: benchmarks are off (apt-get install libbenchmark-dev)")
    set(TEYE_BUILD_BENCH OFF)
  endif()
endif()
