# h7dfu top-level targets. The README's two commands are `make demo` (the main
# job: the full update cycle on the virtual board) and `make test`.
BUILD    ?= build
FW_BUILD ?= build-fw
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps host firmware test demo bench powerloss fuzz format format-check clean

all: host firmware

deps:
	@./scripts/deps.sh

host: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Debug -DH7DFU_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

firmware: deps
	@cmake -S . -B $(FW_BUILD) -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake \
		-DCMAKE_BUILD_TYPE=MinSizeRel >/dev/null
	@cmake --build $(FW_BUILD) -j $(JOBS)

test: host
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

demo: host firmware
	@./scripts/demo.sh $(BUILD) $(FW_BUILD)

bench: deps
	@cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DH7DFU_SANITIZE=OFF >/dev/null
	@cmake --build build-bench -j $(JOBS)
	@./bench/run.sh build-bench

# Every cut point of a 256 KiB update, every 97th of a 1 MiB one (release build).
powerloss: deps
	@cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DH7DFU_SANITIZE=OFF >/dev/null
	@cmake --build build-bench --target test_powerloss -j $(JOBS)
	@H7_POWERLOSS_STRIDE_256K=1 H7_POWERLOSS_STRIDE_1M=97 ./build-bench/tests/powerloss/test_powerloss

fuzz: deps
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DH7DFU_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	@./fuzz/run.sh build-fuzz $${FUZZ_SECONDS:-300}

format:
	@./scripts/format.sh fix

format-check:
	@./scripts/format.sh check

clean:
	rm -rf $(BUILD) $(FW_BUILD) build-bench build-fuzz
