# h7dfu top-level targets. The README's two commands are `make demo` (the main
# job: the full update cycle on the virtual board) and `make test`.
BUILD    ?= build
FW_BUILD ?= build-fw
BENCH_BUILD ?= build-bench
FUZZ_BUILD ?= build-fuzz
COV_BUILD ?= build-cov
MUT_BUILD ?= build-mut
INSTALL_BUILD ?= build-install
PREFIX   ?= /usr/local
DESTDIR  ?=
# empty: /etc/udev/rules.d (cmake/install.cmake)
UDEVRULESDIR ?=
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
# make test LEVEL=unit: only the tests of that level (ctest label: unit,
# integration, e2e, fw-emu, build; LEVEL='unit|integration' for two); empty:
# every test.
LEVEL    ?=

.PHONY: all deps host firmware test demo bench powerloss powerloss-fw fuzz coverage mutate format format-check install uninstall clean

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
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) $(if $(LEVEL),-L '^($(LEVEL))$$')

demo: host firmware
	@./scripts/demo.sh $(BUILD) $(FW_BUILD)

bench: deps firmware
	@cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DH7DFU_SANITIZE=OFF >/dev/null
	@cmake --build $(BENCH_BUILD) -j $(JOBS)
	@./bench/run.sh $(BENCH_BUILD)
	@./bench/multi_board.sh $(BENCH_BUILD)
	@./bench/fw_emu.sh $(BENCH_BUILD) $(FW_BUILD)/firmware

# Every cut point of a 256 KiB update, every 97th of a 1 MiB one (release
# build); the strides can be set in the environment.
powerloss: deps
	@cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DH7DFU_SANITIZE=OFF >/dev/null
	@cmake --build $(BENCH_BUILD) --target test_powerloss -j $(JOBS)
	@H7_POWERLOSS_STRIDE_256K=$${H7_POWERLOSS_STRIDE_256K:-1} \
		H7_POWERLOSS_STRIDE_1M=$${H7_POWERLOSS_STRIDE_1M:-97} \
		$(BENCH_BUILD)/tests/powerloss/test_powerloss

# The same on the exact firmware binaries (emulated chip): every flash
# operation of a 256 KiB update, power cut during each (phases and sizes can
# be set: H7_POWERLOSS_FW_PHASES=before,during,after, H7_POWERLOSS_FW_KIB).
powerloss-fw: firmware
	@cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DH7DFU_SANITIZE=OFF >/dev/null
	@cmake --build $(BENCH_BUILD) --target test_powerloss_fw -j $(JOBS)
	@H7_FW_DIR=$(FW_BUILD)/firmware H7_POWERLOSS_FW_KIB=$${H7_POWERLOSS_FW_KIB:-256} \
		H7_POWERLOSS_FW_STRIDE=$${H7_POWERLOSS_FW_STRIDE:-1} \
		H7_POWERLOSS_FW_RECOVER=$${H7_POWERLOSS_FW_RECOVER:-256} \
		$(BENCH_BUILD)/tests/powerloss/test_powerloss_fw

fuzz: deps
	@CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DH7DFU_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@./fuzz/run.sh $(FUZZ_BUILD) $${FUZZ_SECONDS:-300}

# Line and branch coverage per folder (gcovr; HTML in $(COV_BUILD)/coverage);
# COVERAGE_TESTS=<ctest -R regex> for some tests only.
coverage: deps
	@./scripts/coverage.sh $(COV_BUILD)

# Each tests/mutants/*.patch on a copy of the tree: the tests it names must
# fail (MUTANTS="name ..." for some only).
mutate: deps
	@./scripts/mutate.sh $(MUT_BUILD)

# A release build without sanitizers (INSTALL_BUILD) of the programs and of
# libh7dfu (.so and .a), installed under DESTDIR/PREFIX with cmake --install
# (cmake/install.cmake lists what goes where).
install: deps
	@cmake -S . -B $(INSTALL_BUILD) -DCMAKE_BUILD_TYPE=Release -DH7DFU_SANITIZE=OFF \
		-DH7DFU_INSTALL=ON -DCMAKE_INSTALL_PREFIX=$(PREFIX) \
		$(if $(UDEVRULESDIR),-DH7DFU_UDEVRULESDIR=$(UDEVRULESDIR)) >/dev/null
	@cmake --build $(INSTALL_BUILD) -j $(JOBS)
	@DESTDIR="$(DESTDIR)" cmake --install $(INSTALL_BUILD) --prefix $(PREFIX)

# Removes every file the last install listed (INSTALL_BUILD/install_manifest.txt,
# paths without DESTDIR), then the include/h7dfu and doc folders if empty.
uninstall:
	@test -f $(INSTALL_BUILD)/install_manifest.txt || \
		{ echo "uninstall: no $(INSTALL_BUILD)/install_manifest.txt (make install first)" >&2; exit 1; }
	@while IFS= read -r f || [ -n "$$f" ]; do \
		if [ -e "$(DESTDIR)$$f" ] || [ -L "$(DESTDIR)$$f" ]; then \
			echo "-- Removing: $(DESTDIR)$$f"; rm -f "$(DESTDIR)$$f" || exit 1; fi; \
	done < $(INSTALL_BUILD)/install_manifest.txt
	@sed -n 's|/h7dfu/[^/]*$$|/h7dfu|p' $(INSTALL_BUILD)/install_manifest.txt | sort -u | \
		while IFS= read -r d; do rmdir "$(DESTDIR)$$d" 2>/dev/null || true; done

format:
	@./scripts/format.sh fix

format-check:
	@./scripts/format.sh check

clean:
	rm -rf $(BUILD) $(FW_BUILD) $(BENCH_BUILD) $(FUZZ_BUILD) $(COV_BUILD) $(MUT_BUILD) $(INSTALL_BUILD)
