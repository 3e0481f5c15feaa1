# The README's commands. Each bootstraps what is missing, then builds with CMake + Ninja + ccache.
#   make run      Release build, start the server on http://127.0.0.1:8080 (data in ./var)
#   make test     ASan+UBSan build, the whole suite (unit + integration + packaging)
#   make bench    Release build, benchmarks beside their peers
#   make package  .deb and .rpm in dist/
#   make lint     clang-tidy over src/ (.clang-tidy's checks; files unchanged since a clean run skip)
#   make fuzz     clang libFuzzer build in build/fuzz, each fuzz target FUZZ_SECONDS (default 60)
SHELL := /bin/bash
JOBS ?= $(shell nproc)
RELEASE_DIR := build/release
TEST_DIR := build/asan
CMAKE_COMMON := -G Ninja -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
FUZZ_DIR := build/fuzz
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 1
FUZZ_TARGETS ?=

.PHONY: run test bench package build release asan lint fuzz format clean bootstrap

bootstrap:
	@scripts/bootstrap

release: bootstrap
	@cmake -S . -B $(RELEASE_DIR) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Release \
	  -DNETPULSE_BUILD_TESTS=OFF >/dev/null
	@cmake --build $(RELEASE_DIR) -j $(JOBS) --target netpulse

build: release

run: release
	@mkdir -p var
	exec $(RELEASE_DIR)/src/netpulse serve

asan: bootstrap
	@cmake -S . -B $(TEST_DIR) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Debug \
	  -DNETPULSE_SANITIZE=ON >/dev/null
	@cmake --build $(TEST_DIR) -j $(JOBS)

# The cases a machine cannot run ([root], [netns], [ipv6]: tests/support/catch_main.cpp) are
# excluded with a reason; ctest lists their entries as skipped, and the reasons are printed after.
test: asan release
	@cd $(TEST_DIR) && NETPULSE_RELEASE_BINARY=$(CURDIR)/$(RELEASE_DIR)/src/netpulse \
	  ctest --output-on-failure --timeout 1200; rc=$$?; \
	  grep -h '^excluded \[' Testing/Temporary/LastTest.log 2>/dev/null | sed 's/^/make test: /'; \
	  exit $$rc

lint: bootstrap
	@cmake -S . -B $(TEST_DIR) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Debug \
	  -DNETPULSE_SANITIZE=ON >/dev/null
	@scripts/lint $(TEST_DIR)

bench: release
	@scripts/bootstrap --bench
	@bench/run-all $(RELEASE_DIR)/src/netpulse

package: release
	@packaging/build-packages $(RELEASE_DIR)/src/netpulse dist

# The fuzz targets of tests/fuzz (docs/fuzzing.md): Debian's clang with libFuzzer, ASan and UBSan.
# `make fuzz FUZZ_SECONDS=3600` is the long run; FUZZ_TARGETS="http selector" picks targets,
# FUZZ_JOBS=2 runs two at once. New inputs that add coverage are merged into tests/fuzz/corpus.
fuzz:
	@scripts/bootstrap --fuzz
	@CXX=clang++ cmake -S . -B $(FUZZ_DIR) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Debug \
	  -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" -DNETPULSE_FUZZ=ON -DNETPULSE_BUILD_TESTS=OFF \
	  -DNETPULSE_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(FUZZ_DIR) -j $(JOBS) --target fuzz_targets
	@FUZZ_JOBS=$(FUZZ_JOBS) tests/fuzz/run $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf build dist
