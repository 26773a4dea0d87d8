# SPDX-License-Identifier: GPL-2.0
#
#   make               build zxmem.ko for KDIR (default: the running kernel)
#   make demo          boot a VM, load zxmem, patch a running program
#   make check         KUnit, lint gates and the VM suite; ends with
#                      "N passed, M failed"
#   make kunit         only the KUnit suite (UML kernel; LLVM=1: clang)
#   make lint          only the static gates (checkpatch, sparse, ...)
#   make vm-test       only the kselftests in the VM
#   make check-debug   the VM suite, fuzzer, race tests and fault injection on a
#                      KASAN/lockdep/kmemleak/UBSAN kernel, then kmemleak and
#                      zxmem.ko's line coverage (COVERAGE_GATE=0: no goal)
#   make coverage      check-debug, and an HTML coverage report in
#                      build/coverage
#   make bench         zxmem against process_vm_writev, /proc/PID/mem and
#                      PTRACE_POKEDATA in the VM: table and plot in build/
#   make kunit-module  the KUnit tests as a module for KDIR (CONFIG_KUNIT=m)
#   make mutants       plant each fault of scripts/mutants.list in a scratch
#                      copy and run the suite: ends "N killed, M survived"
#   make clean
#
# demo and check install what they need (Debian packages, as root) and boot
# the kernel of Debian's linux-image-amd64 under QEMU; they never use the
# host's kernel.  Downloads and builds are cached in $(ZXMEM_CACHE).

KDIR ?= /lib/modules/$(shell uname -r)/build
ZXMEM_CACHE ?= $(HOME)/.cache/zxmem
export ZXMEM_CACHE

# The kernels the VM suite runs on (scripts/kernels.conf); KVER=NAME picks
# one of them.  make demo and make lint use Debian 12's own kernel.
KERNELS := $(shell awk '!/^\#/ && NF && $$1 !~ /-debug$$/ { print $$1 }' \
	     scripts/kernels.conf)
KVER ?= $(KERNELS)

# Debian 12's kernel; found by scripts/deps.sh once the packages are there.
VM_KVER ?=
VM_KDIR = /usr/src/linux-headers-$(VM_KVER)
VM_KERNEL = /boot/vmlinuz-$(VM_KVER)
VM_OUT = $(CURDIR)/build/vm

# The kselftests are built by selftests/zxmem/Makefile (include ../lib.mk),
# the way a kernel tree builds them: in build/kselftest/, a copy of the
# kselftest framework of the 7.2 source tree (scripts/kernel.sh unpacks
# it for the 7.2 kernel) with selftests/zxmem/ copied in as zxmem/.  A
# symlink would not do: lib.mk is found through the real path.  KSFT_SRC
# can name another kernel tree.  "make ... install" of that tree is what
# the VM runs, with run_kselftest.sh -c zxmem.
KSFT_KERNEL = 7.2
KSFT_SRC ?= $(ZXMEM_CACHE)/kernels/src/linux-source-$(KSFT_KERNEL)-$(shell \
	    awk '$$1 == "$(KSFT_KERNEL)" { print $$4 }' scripts/kernels.conf)
KSFT_TREE = $(CURDIR)/build/kselftest/$(notdir $(KSFT_SRC))
KSFT_DIR = $(KSFT_TREE)/tools/testing/selftests
KSFT_OUT = $(KSFT_DIR)/zxmem
KSFT_INSTALL = $(CURDIR)/build/kselftest/install
KSFT_FILES = Makefile lib.mk kselftest.h kselftest_harness.h run_kselftest.sh
KSFT_MAKE = $(MAKE) --no-print-directory -C $(KSFT_DIR) TARGETS=zxmem \
	    ZXMEM_SRC=$(CURDIR)
ZXMEM_EXPECT = $(CURDIR)/selftests/zxmem/expected.txt

# Not tests: built here, without the kselftest framework.
TOOL_CFLAGS = -static -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE \
	      -I$(CURDIR)/uapi
DEBUG_KERNEL = 7.2-debug
# The debug kernel has CONFIG_GCOV_KERNEL; scripts/coverage.sh says whether
# the run met the coverage goal, and fails it if not, unless this is 0.
COVERAGE_GATE ?= 1
COVERAGE_HTML ?=
UAPI_HEADERS = uapi/linux/zxmem.h uapi/zircon/errors.h uapi/zircon/syscalls.h

.PHONY: all modules kunit-module clean deps check demo kunit lint vm-test \
	check-debug coverage debug-all bench vm-bench mutants \
	check-all vm-check vm-demo vm-module ksft-tree ksft-install ksft-debug

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

kunit-module:
	@grep -qs '^CONFIG_KUNIT=[ym]' $(KDIR)/include/config/auto.conf || \
		{ echo "$(KDIR): kernel built without CONFIG_KUNIT"; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) ZXMEM_KUNIT=m modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || \
		rm -f *.o *.ko *.mod *.mod.c .*.cmd modules.order Module.symvers
	rm -rf build selftests/zxmem/demo selftests/zxmem/bench

deps:
	@scripts/deps.sh

check: deps
	@$(MAKE) --no-print-directory check-all VM_KVER=$$(scripts/deps.sh --kver)

kunit: deps
	@scripts/kunit.sh

lint: deps
	@scripts/lint.sh /usr/src/linux-headers-$$(scripts/deps.sh --kver)

bench: deps
	@$(MAKE) --no-print-directory vm-bench VM_KVER=$$(scripts/deps.sh --kver)

check-debug: deps
	@$(MAKE) --no-print-directory debug-all

coverage: deps
	@$(MAKE) --no-print-directory debug-all \
		COVERAGE_HTML="--html $(CURDIR)/build/coverage"

# MUTANTS=a,b MUTANTS_KERNEL=7.2 MUTANTS_DEBUG=1 ...: see scripts/mutants.sh
mutants: deps
	@scripts/mutants.sh

vm-test: deps
	@$(MAKE) --no-print-directory vm-check VM_KVER=$$(scripts/deps.sh --kver)

demo: deps
	@$(MAKE) --no-print-directory vm-demo VM_KVER=$$(scripts/deps.sh --kver)

# Everything below needs VM_KVER, set by the targets above.

# Every stage runs, whatever the others did; summary.sh adds them up.
STAGE_COUNTS = build/kunit.counts build/kunit-clang.counts build/lint.counts \
	       $(foreach k,$(KVER),$(VM_OUT)/$(k)/counts)
check-all:
	@rm -f $(STAGE_COUNTS) && mkdir -p build
	-@ZXMEM_KUNIT_COUNTS=$(CURDIR)/build/kunit.counts scripts/kunit.sh
	-@ZXMEM_KUNIT_COUNTS=$(CURDIR)/build/kunit-clang.counts LLVM=1 \
		scripts/kunit.sh
	-@ZXMEM_LINT_COUNTS=$(CURDIR)/build/lint.counts scripts/lint.sh $(VM_KDIR)
	-@$(MAKE) --no-print-directory vm-check
	@scripts/summary.sh $(STAGE_COUNTS)

vm-module:
	@test -n "$(VM_KVER)" || { echo "VM_KVER is not set"; exit 1; }
	$(MAKE) -C $(VM_KDIR) M=$(CURDIR) W=1 modules

# The framework files and our directory, copied with their times, so
# that only what changed is rebuilt.
ksft-tree:
	@test -f $(KSFT_SRC)/Makefile || scripts/kernel.sh $(KSFT_KERNEL) >/dev/null
	@test -f $(KSFT_SRC)/tools/testing/selftests/lib.mk || \
		{ echo "KSFT_SRC=$(KSFT_SRC): no kselftest framework there"; exit 1; }
	@mkdir -p $(KSFT_TREE)/scripts $(KSFT_OUT)
	@cp -p $(KSFT_SRC)/scripts/subarch.include $(KSFT_TREE)/scripts/
	@cp -p $(addprefix $(KSFT_SRC)/tools/testing/selftests/,$(KSFT_FILES)) \
		$(KSFT_DIR)/
	@cp -pr $(KSFT_SRC)/tools/testing/selftests/kselftest $(KSFT_DIR)/
	@cp -p $(filter-out %/run.sh %/check-debug.sh %/bench.sh %/demo.sh \
		%/bench.c %/demo.c,$(wildcard selftests/zxmem/*.[ch] \
		selftests/zxmem/*.sh)) selftests/zxmem/Makefile \
		selftests/zxmem/config selftests/zxmem/settings $(KSFT_OUT)/

# What LKFT runs: the installed kselftest tree.
ksft-install: ksft-tree
	@rm -rf $(KSFT_INSTALL)
	@$(KSFT_MAKE) KSFT_INSTALL_PATH=$(KSFT_INSTALL) install >/dev/null

ksft-debug: ksft-tree
	@$(MAKE) --no-print-directory -C $(KSFT_OUT) OUTPUT=$(KSFT_OUT) \
		ZXMEM_SRC=$(CURDIR) debug

# One VM run per kernel; each builds its own zxmem.ko with W=1 -Werror and
# puts it beside zxmem.sh in the installed tree.
vm-check: ksft-install
	@rc=0; for k in $(KVER); do \
		scripts/vm-suite.sh --expect $(ZXMEM_EXPECT) \
			--kselftest $(KSFT_INSTALL) $$k $(VM_OUT)/$$k \
			selftests/zxmem/run.sh || rc=1; \
	done; exit $$rc

# The debug kernel is slow under TCG: KASAN and lockdep on every access.
# check-debug.sh runs the programs itself, from /root.
debug-all: ksft-install ksft-debug
	@rm -rf $(VM_OUT)/debug-guest && mkdir -p $(VM_OUT)/debug-guest
	@cp selftests/zxmem/check-debug.sh $(VM_OUT)/debug-guest/run.sh
	-@ZXMEM_VM_TIMEOUT=3600 ZXMEM_VM_APPEND="loglevel=5" \
		scripts/vm-suite.sh --expect $(ZXMEM_EXPECT) $(DEBUG_KERNEL) \
		$(VM_OUT)/$(DEBUG_KERNEL) \
		$$(sed 's|^|$(KSFT_OUT)/|' $(KSFT_OUT)/zxmem_tests.list \
			$(KSFT_OUT)/zxmem_debug.list) \
		$(KSFT_OUT)/zxmem_tests.list selftests/zxmem/gcov-dump.sh \
		$(VM_OUT)/debug-guest/run.sh
	-@ZXMEM_COVERAGE_GATE=$(COVERAGE_GATE) scripts/coverage.sh \
		$(VM_OUT)/$(DEBUG_KERNEL) $(COVERAGE_HTML)
	@scripts/summary.sh $(VM_OUT)/$(DEBUG_KERNEL)/counts \
		$(VM_OUT)/$(DEBUG_KERNEL)/coverage.counts

selftests/zxmem/demo: %: %.c $(UAPI_HEADERS)
	$(CC) $(TOOL_CFLAGS) -o $@ $< -lpthread

# The bench's targets are the test library's (common.c).
BENCH_LIB = selftests/zxmem/common.c selftests/zxmem/common.h \
	    selftests/zxmem/zxmem_selftest.h
selftests/zxmem/bench: %: %.c $(BENCH_LIB) $(UAPI_HEADERS)
	$(CC) $(TOOL_CFLAGS) -o $@ $< selftests/zxmem/common.c -lpthread

# Missed ratio targets are "not ok" lines, not a failed command: the
# numbers are the product, so the plot is drawn either way.
vm-bench: vm-module selftests/zxmem/bench
	@rm -rf $(VM_OUT)/bench && mkdir -p $(VM_OUT)/bench
	@cp selftests/zxmem/bench.sh $(VM_OUT)/bench/run.sh
	@scripts/mkinitramfs.sh $(VM_OUT)/bench/initrd.cpio.gz zxmem.ko \
		selftests/zxmem/bench $(VM_OUT)/bench/run.sh
	-@scripts/vm-run.sh --kernel $(VM_KERNEL) \
		--initrd $(VM_OUT)/bench/initrd.cpio.gz \
		--out $(VM_OUT)/bench --timeout 1500 --quiet
	@scripts/bench-plot.sh $(VM_OUT)/bench
	@cat $(VM_OUT)/bench/bench.txt

vm-demo: vm-module selftests/zxmem/demo
	@rm -rf $(VM_OUT)/demo && mkdir -p $(VM_OUT)/demo
	@cp selftests/zxmem/demo.sh $(VM_OUT)/demo/run.sh
	@scripts/mkinitramfs.sh $(VM_OUT)/demo/initrd.cpio.gz zxmem.ko \
		selftests/zxmem/demo $(VM_OUT)/demo/run.sh
	@scripts/vm-run.sh --kernel $(VM_KERNEL) \
		--initrd $(VM_OUT)/demo/initrd.cpio.gz \
		--out $(VM_OUT)/demo --timeout 300
