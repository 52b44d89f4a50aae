# Thin wrappers around CMake; see README.md.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
MODEL_DIR  ?= ../shared/models/mtcnn

.PHONY: all setup build test demo bench clean

all: build

setup:
	@bash scripts/setup.sh

build:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DPLINTH_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@echo "== tests (release build) =="
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@echo "== tests (AddressSanitizer + UndefinedBehaviorSanitizer build) =="
	@cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS)

# The model is checked first: without it there is nothing to set up or build for.
demo:
	@bash scripts/demo.sh --check-model "$(MODEL_DIR)"
	@$(MAKE) --no-print-directory setup build
	@bash scripts/demo.sh "$(MODEL_DIR)" "$(BUILD)"

bench: setup build
	@bash bench/run.sh "$(BUILD)"

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
