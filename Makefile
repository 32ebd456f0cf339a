# teye — the two quick-start commands are `make demo` and `make test` (see README.md).
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
TEYE := $(BUILD_DIR)/teye
DEMO_TRACE := samples/demo_train.pt.trace.json.gz

.PHONY: all setup configure build demo test test-asan bench golden-update format clean

all: build

# Installs missing Debian packages as root, or prints the apt-get line and stops.
setup:
	@scripts/setup.sh

configure: setup
	@if [ ! -f $(BUILD_DIR)/build.ninja ]; then \
	  cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS); \
	fi

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Sets up, builds, and analyses the bundled sample trace.
demo: build
	@echo
	@echo "\$$ teye analyze $(DEMO_TRACE)"
	@$(TEYE) analyze $(DEMO_TRACE)

# Sets up, builds, and runs every test.
test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

# The bad-input and reader tests under AddressSanitizer and UBSan, in their own build tree.
test-asan: setup
	@if [ ! -f $(BUILD_DIR)-asan/build.ninja ]; then \
	  cmake -S . -B $(BUILD_DIR)-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug \
	    -DTEYE_SANITIZE=address,undefined -DTEYE_BUILD_BENCH=OFF -DTEYE_WITH_CUPTI=OFF; \
	fi
	cmake --build $(BUILD_DIR)-asan -j $(JOBS) --target teye teye_reader_tests teye_badinput_tests teye_nsys_reader_tests
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ctest --test-dir $(BUILD_DIR)-asan --output-on-failure -j $(JOBS) -L 'reader|badinput'

# Benchmarks (not part of the test run): see docs/performance.md.
bench: build
	$(BUILD_DIR)/bench/teye_bench
	$(BUILD_DIR)/bench/teye_collector_bench
	$(BUILD_DIR)/bench/teye_overhead_bench

# Regenerates golden files; review the diff before committing.
golden-update: build
	TEYE_UPDATE_GOLDEN=1 ctest --test-dir $(BUILD_DIR) --output-on-failure -L golden

format:
	@git ls-files '*.cpp' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(BUILD_DIR)-asan
