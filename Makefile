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
#                      KASAN/lockdep/kmemleak/UBSAN kernel, then kmemleak
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

SELFTESTS_INC = $(ZXMEM_CACHE)/linux-source-6.1/tools/testing/selftests
TEST_CFLAGS = -static -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE \
	      -I$(CURDIR)/uapi -I$(SELFTESTS_INC)
TEST_BINS = selftests/zxmem/zxmem_test selftests/zxmem/api_test \
	    selftests/zxmem/compat_test selftests/zxmem/security_test
DEBUG_BINS = selftests/zxmem/faults selftests/zxmem/fuzz selftests/zxmem/races
DEBUG_KERNEL = 7.2-debug
UAPI_HEADERS = uapi/linux/zxmem.h uapi/zircon/errors.h uapi/zircon/syscalls.h

.PHONY: all modules kunit-module clean deps check demo kunit lint vm-test \
	check-debug debug-all bench vm-bench mutants \
	check-all vm-check vm-demo vm-module

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
	rm -rf build $(TEST_BINS) $(DEBUG_BINS) selftests/zxmem/demo \
		selftests/zxmem/bench

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

selftests/zxmem/%: selftests/zxmem/%.c $(UAPI_HEADERS) \
		   selftests/zxmem/zxmem_selftest.h
	$(CC) $(TEST_CFLAGS) -o $@ $< -lpthread

# A 32-bit caller, through compat_ptr_ioctl() (gcc-multilib).
selftests/zxmem/compat_test: selftests/zxmem/compat_test.c $(UAPI_HEADERS) \
			     selftests/zxmem/zxmem_selftest.h
	$(CC) -m32 -D_FILE_OFFSET_BITS=64 $(TEST_CFLAGS) -o $@ $<

# One VM run per kernel; each builds its own zxmem.ko with W=1 -Werror.
vm-check: $(TEST_BINS)
	@rc=0; for k in $(KVER); do \
		scripts/vm-suite.sh $$k $(VM_OUT)/$$k $(TEST_BINS) \
			selftests/zxmem/run.sh || rc=1; \
	done; exit $$rc

# The debug kernel is slow under TCG: KASAN and lockdep on every access.
debug-all: $(TEST_BINS) $(DEBUG_BINS)
	@rm -rf $(VM_OUT)/debug-guest && mkdir -p $(VM_OUT)/debug-guest
	@cp selftests/zxmem/check-debug.sh $(VM_OUT)/debug-guest/run.sh
	-@ZXMEM_VM_TIMEOUT=3600 ZXMEM_VM_APPEND="loglevel=5" \
		scripts/vm-suite.sh $(DEBUG_KERNEL) \
		$(VM_OUT)/$(DEBUG_KERNEL) $(TEST_BINS) $(DEBUG_BINS) \
		$(VM_OUT)/debug-guest/run.sh
	@scripts/summary.sh $(VM_OUT)/$(DEBUG_KERNEL)/counts

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
