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
#   make profile       perf in the VM on the batched breakpoint install and
#                      on single calls: where the time goes, and the bound
#                      pinning each page puts on the batch (installs perf)
#   make kunit-module  the KUnit tests as a module for KDIR (CONFIG_KUNIT=m)
#   make mutants       plant each fault of scripts/mutants.list in a scratch
#                      copy and run the suite: ends "N killed, M survived"
#   make zxmem-cmd     the zxmem command (tools/zxmem) and its man pages
#                      (build/man/), version from the file VERSION
#   make install       the module (modules_install for KDIR, then depmod),
#                      udev rule, sysusers and modprobe.d files, headers,
#                      pkg-config file, the command and man pages; honours
#                      DESTDIR, PREFIX, INSTALL_MOD_PATH and KDIR
#   make uninstall     removes exactly what make install put there
#   make deb           the Debian packages (debian/), in build/deb/
#   make pkg-test      make deb, install the packages with apt-get, check
#                      DKMS built the module, boot the 6.1 VM with it and
#                      run the kselftests, purge the packages
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
KERNELS := $(shell awk '!/^\#/ && NF && $$1 !~ /-(debug|kcsan)$$/ { print $$1 }' \
	     scripts/kernels.conf)
KVER ?= $(KERNELS)

# Debian 12's kernel; found by scripts/deps.sh once the packages are there
# (a recursive variable: recipes expand it after deps has run).
VM_KVER ?= $(shell $(CURDIR)/scripts/deps.sh --kver 2>/dev/null)
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
# The data-race detector's kernel (KCSAN), also in make check-debug.
KCSAN_KERNEL = 7.2-kcsan
# The debug kernel has CONFIG_GCOV_KERNEL; scripts/coverage.sh says whether
# the run met the coverage goal, and fails it if not, unless this is 0.
COVERAGE_GATE ?= 1
COVERAGE_HTML ?=
UAPI_HEADERS = uapi/linux/zxmem.h uapi/zircon/errors.h uapi/zircon/syscalls.h \
	       uapi/zxmem/vec.h

# The one version number: the first line of VERSION.  MODULE_VERSION()
# gets it through Kbuild; dkms.conf and debian/changelog are checked
# against it (version-check).
ZXMEM_VERSION := $(shell head -n 1 $(CURDIR)/VERSION)
# The zxmem command: built for this machine (dynamically linked), with
# the compiler's CFLAGS/LDFLAGS on top, as a package build passes them.
CMD_CFLAGS = -O2 -g -Wall -Wextra -Werror -I$(CURDIR)/uapi \
	     -DZXMEM_VERSION='"$(ZXMEM_VERSION)"'
ZXMEM_CMD = tools/zxmem
# Man pages: man/NAME.SECTION.in, @VERSION@ filled in, into build/man/.
MAN_SRC = $(wildcard man/*.in)
MAN_PAGES = $(patsubst man/%.in,build/man/%,$(MAN_SRC))
# make install.  udev, systemd-sysusers and modprobe read only their own
# directories, whatever PREFIX is.
PREFIX ?= /usr/local
INSTALL_MOD_PATH ?=
INSTALL_MOD_DIR ?= extra
DEPMOD ?= /sbin/depmod
BINDIR = $(PREFIX)/bin
INCLUDEDIR = $(PREFIX)/include
MANDIR = $(PREFIX)/share/man
PKGCONFIGDIR = $(PREFIX)/share/pkgconfig
UDEVRULESDIR ?= /usr/lib/udev/rules.d
SYSUSERSDIR ?= /usr/lib/sysusers.d
MODPROBEDIR ?= /usr/lib/modprobe.d
# The kernel the module is installed for: KDIR's release, as in the
# module's vermagic (Debian's headers have another kernel.release).
KREL = $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"$$/\1/p' \
	 $(KDIR)/include/generated/utsrelease.h 2>/dev/null)
MODDIR = $(DESTDIR)$(INSTALL_MOD_PATH)/lib/modules/$(KREL)/$(INSTALL_MOD_DIR)
# What dkms.conf's MAKE needs, installed as /usr/src/zxmem-VERSION.
DKMS_SRC = dkms.conf VERSION Kbuild $(wildcard COPYING) \
	   $(filter-out %.mod.c,$(wildcard *.c)) $(wildcard *.h) $(UAPI_HEADERS)

# make check and make check-debug run their stages in parallel, JOBS at a
# time (the CPUs, by default: each VM is one TCG thread), each stage's
# output kept together and printed when it ends.  .ci/run starts both in
# one make, check-debug's long debug VM first.  JOBS=1 runs them in turn.
# -k: a failed step stops none of the stages that do not need it; each
# stage's own failure is in its counts (or their absence), and the
# summaries come last either way.  The kselftest builds fail softly there:
# the stages that need them then fail, one by one, saying why.
JOBS ?= $(shell nproc)
ifneq ($(filter check check-debug coverage,$(MAKECMDGOALS)),)
MAKEFLAGS += -j$(JOBS) --output-sync=target -k
KSFT_SOFT = -
endif
ifneq ($(filter coverage,$(MAKECMDGOALS)),)
COVERAGE_HTML = --html $(CURDIR)/build/coverage
endif

.PHONY: all modules kunit-module clean deps check demo kunit lint vm-test \
	check-debug coverage debug-all bench vm-bench profile vm-profile mutants \
	check-all vm-check vm-demo vm-module ksft-tree ksft-install ksft-install-arm64 ksft-debug \
	zxmem-cmd man \
	install uninstall install-data uninstall-data install-dkms-src \
	deb pkg-test pkg-check version-check

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

zxmem-cmd: tools/zxmem man

tools/zxmem: tools/zxmem.c VERSION $(UAPI_HEADERS)
	$(CC) $(CMD_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $<

man: $(MAN_PAGES)

build/man/%: man/%.in VERSION
	@mkdir -p $(@D)
	sed 's/@VERSION@/$(ZXMEM_VERSION)/g' $< >$@

kunit-module:
	@grep -qs '^CONFIG_KUNIT=[ym]' $(KDIR)/include/config/auto.conf || \
		{ echo "$(KDIR): kernel built without CONFIG_KUNIT"; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) ZXMEM_KUNIT=m modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || \
		rm -f *.o *.ko *.mod *.mod.c .*.cmd modules.order Module.symvers
	rm -rf build selftests/zxmem/demo selftests/zxmem/bench tools/zxmem

# The module through the kernel's modules_install.  depmod only for the
# running system: a DESTDIR or INSTALL_MOD_PATH is a staging tree, whose
# packager or image builder runs depmod for its own kernel.
install: modules install-data
	@test -n "$(KREL)" || { echo "$(KDIR): no kernel release"; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_DIR=$(INSTALL_MOD_DIR) \
		INSTALL_MOD_PATH=$(DESTDIR)$(INSTALL_MOD_PATH) modules_install
	$(if $(DESTDIR)$(INSTALL_MOD_PATH),,$(DEPMOD) -a $(KREL))

uninstall: uninstall-data
	@test -n "$(KREL)" || { echo "$(KDIR): no kernel release"; exit 1; }
	rm -f $(MODDIR)/zxmem.ko $(MODDIR)/zxmem.ko.gz $(MODDIR)/zxmem.ko.xz \
		$(MODDIR)/zxmem.ko.zst
	$(if $(DESTDIR)$(INSTALL_MOD_PATH),,$(DEPMOD) -a $(KREL))
	-@rmdir --ignore-fail-on-non-empty $(MODDIR) 2>/dev/null
	$(if $(DESTDIR)$(INSTALL_MOD_PATH),-@cd $(DESTDIR)$(INSTALL_MOD_PATH)/ \
		&& rmdir -p --ignore-fail-on-non-empty \
		lib/modules/$(KREL) 2>/dev/null)

# Everything but the module (the Debian packages take it from here).
INSTALLED_DATA = $(UDEVRULESDIR)/60-zxmem.rules $(SYSUSERSDIR)/zxmem.conf \
	$(MODPROBEDIR)/zxmem.conf $(INCLUDEDIR)/zircon/syscalls.h \
	$(INCLUDEDIR)/zircon/errors.h $(INCLUDEDIR)/linux/zxmem.h \
	$(INCLUDEDIR)/zxmem/vec.h $(PKGCONFIGDIR)/zxmem.pc \
	$(BINDIR)/$(notdir $(ZXMEM_CMD)) \
	$(foreach m,$(MAN_PAGES),$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)))
install-data: $(ZXMEM_CMD) $(MAN_PAGES)
	install -D -m 0644 data/60-zxmem.rules $(DESTDIR)$(UDEVRULESDIR)/60-zxmem.rules
	install -D -m 0644 data/sysusers-zxmem.conf $(DESTDIR)$(SYSUSERSDIR)/zxmem.conf
	install -D -m 0644 data/modprobe-zxmem.conf $(DESTDIR)$(MODPROBEDIR)/zxmem.conf
	install -D -m 0644 -t $(DESTDIR)$(INCLUDEDIR)/zircon \
		uapi/zircon/syscalls.h uapi/zircon/errors.h
	install -D -m 0644 -t $(DESTDIR)$(INCLUDEDIR)/linux uapi/linux/zxmem.h
	install -D -m 0644 -t $(DESTDIR)$(INCLUDEDIR)/zxmem uapi/zxmem/vec.h
	@mkdir -p $(DESTDIR)$(PKGCONFIGDIR)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(ZXMEM_VERSION)|' \
		data/zxmem.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/zxmem.pc
	install -D -m 0755 $(ZXMEM_CMD) $(DESTDIR)$(BINDIR)/$(notdir $(ZXMEM_CMD))
	$(foreach m,$(MAN_PAGES),install -D -m 0644 $(m) \
		$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)) &&) true

# Files, then the directories holding them if that left them empty, and in
# a DESTDIR their parents too.
uninstall-data:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED_DATA))
	-@$(if $(DESTDIR),cd $(DESTDIR)/ && rmdir -p,rmdir) \
		--ignore-fail-on-non-empty $(if $(DESTDIR),$(patsubst \
		/%,%,$(sort $(dir $(INSTALLED_DATA)))),$(sort $(dir \
		$(INSTALLED_DATA)))) 2>/dev/null

# The module's source as dkms.conf expects it (the zxmem-dkms package).
install-dkms-src: version-check
	@for f in $(DKMS_SRC); do \
		install -D -m 0644 $$f $(DESTDIR)/usr/src/zxmem-$(ZXMEM_VERSION)/$$f \
			|| exit 1; \
	done

# DKMS reads dkms.conf literally: its PACKAGE_VERSION must be VERSION's.
version-check:
	@grep -qx 'PACKAGE_VERSION="$(ZXMEM_VERSION)"' dkms.conf || \
		{ echo "dkms.conf: PACKAGE_VERSION is not $(ZXMEM_VERSION) (VERSION)"; exit 1; }
	@grep -q '^zxmem ($(ZXMEM_VERSION)-[0-9]*)' debian/changelog || \
		{ echo "debian/changelog: the last entry is not $(ZXMEM_VERSION)"; exit 1; }

# Binary packages only, unsigned, from a copy of the tree in build/;
# the .debs, .buildinfo and .changes land in build/deb/.
deb: version-check
	@rm -rf build/deb && mkdir -p build/deb/src
	@git ls-files -z 2>/dev/null | xargs -0 cp --parents -t build/deb/src 2>/dev/null \
		|| tar -c --exclude=./build --exclude=./.git . | tar -x -C build/deb/src
	cd build/deb/src && dpkg-buildpackage -b -us -uc
	@ls build/deb/*.deb

deps:
	@scripts/deps.sh

check: deps check-all

kunit: deps
	@scripts/kunit.sh

lint: deps
	@scripts/lint.sh /usr/src/linux-headers-$$(scripts/deps.sh --kver)

bench: deps
	@$(MAKE) --no-print-directory vm-bench VM_KVER=$$(scripts/deps.sh --kver)

profile:
	@scripts/deps.sh --profile
	@$(MAKE) --no-print-directory vm-profile VM_KVER=$$(scripts/deps.sh --kver)

check-debug: deps debug-all

coverage: deps debug-all

# MUTANTS=a,b MUTANTS_KERNEL=7.2 MUTANTS_DEBUG=1 ...: see scripts/mutants.sh
mutants: deps
	@scripts/mutants.sh

pkg-test: deps
	@$(MAKE) --no-print-directory pkg-check VM_KVER=$$(scripts/deps.sh --kver)

vm-test: deps
	@$(MAKE) --no-print-directory vm-check VM_KVER=$$(scripts/deps.sh --kver)

demo: deps
	@$(MAKE) --no-print-directory vm-demo VM_KVER=$$(scripts/deps.sh --kver)

# Everything below needs VM_KVER: the targets above pass it, and in a
# recipe it is found (deps.sh --kver) once deps has run.

# The stages of make check and make check-debug.  Every stage runs,
# whatever the others did (scripts/stage.sh); summary.sh adds up their
# counts files.  Stages that write the same files are ordered: the two
# KUnit runs edit the one linux-source tree, and pkg-test and the demo
# both build zxmem.ko in this directory.  The longest come first, so that
# the last to end are short (pkg-test and lint take about 115 s each, the
# arm64 VM 100 s, the amd64 VMs 60-80 s, KUnit and the demo 15-20 s: a
# fresh-clone run on 2026-12-02 that started lint after the VMs ended
# with lint alone on one CPU for 115 s).  The suite on Debian 12's own kernel (6.1,
# "installed" in kernels.conf) is pkg-test's, on the module as the
# package installs it (lint has built it with W=1 -Werror for that
# kernel); make vm-test runs it the other way too.
PKG_KERNEL := $(shell awk '!/^\#/ && $$2 == "installed" { print $$1 }' \
		scripts/kernels.conf)
CHECK_VMS = $(filter %-arm64,$(KVER)) $(filter-out %-arm64 $(PKG_KERNEL),$(KVER))
CHECK_STAGES = stage-pkg stage-lint $(addprefix stage-vm-,$(CHECK_VMS)) \
	       stage-kunit stage-kunit-clang stage-demo
CHECK_COUNTS = build/kunit.counts build/kunit-clang.counts build/lint.counts \
	       $(foreach k,$(CHECK_VMS),$(VM_OUT)/$(k)/counts) build/pkg.counts \
	       $(VM_OUT)/demo/counts
STAGE = @scripts/stage.sh
.PHONY: $(CHECK_STAGES) stage-debug stage-coverage stage-kcsan debug-guest \
	check-reset debug-reset

check-all: $(CHECK_STAGES)
	@echo "== make check: the stages' counts"
	@scripts/summary.sh $(CHECK_COUNTS)

stage-kunit: deps
	$(STAGE) kunit build/kunit.counts \
		env ZXMEM_KUNIT_COUNTS=$(CURDIR)/build/kunit.counts scripts/kunit.sh
stage-kunit-clang: deps | stage-kunit
	$(STAGE) kunit-clang build/kunit-clang.counts \
		env ZXMEM_KUNIT_COUNTS=$(CURDIR)/build/kunit-clang.counts LLVM=1 \
		scripts/kunit.sh
stage-lint: deps
	$(STAGE) lint build/lint.counts \
		env ZXMEM_LINT_COUNTS=$(CURDIR)/build/lint.counts scripts/lint.sh $(VM_KDIR)
# One VM run per kernel; each builds its own zxmem.ko with W=1 -Werror and
# puts it beside zxmem.sh in the installed tree.
$(addprefix stage-vm-,$(filter-out %-arm64,$(KVER))): ksft-install
$(addprefix stage-vm-,$(filter %-arm64,$(KVER))): ksft-install-arm64
$(addprefix stage-vm-,$(KVER)): stage-vm-%:
	$(STAGE) vm-$* $(VM_OUT)/$*/counts \
		scripts/vm-suite.sh --expect $(ZXMEM_EXPECT) --kselftest \
		$(if $(filter %-arm64,$*),$(KSFT_INSTALL_ARM64),$(KSFT_INSTALL)) \
		$* $(VM_OUT)/$* selftests/zxmem/run.sh
stage-pkg: ksft-install
	$(STAGE) pkg build/pkg.counts \
		env ZXMEM_PKG_COUNTS=$(CURDIR)/build/pkg.counts scripts/pkg-test.sh \
		$(VM_KVER) $(KSFT_INSTALL)
# "make", not $$(MAKE): a line with $$(MAKE) is a recursive make's, whose
# output make -O does not keep together and make -n runs.
stage-demo: deps | stage-pkg
	$(STAGE) demo $(VM_OUT)/demo/counts \
		make --no-print-directory vm-demo VM_KVER=$(VM_KVER)

# A stage that does not run leaves no counts, not an earlier run's.  Only
# for make check: make vm-test leaves the other stages' counts alone.
check-reset:
	@rm -f $(CHECK_COUNTS)
ifneq ($(filter check,$(MAKECMDGOALS)),)
$(CHECK_STAGES): | check-reset
endif

# With check-debug in the same make (.ci/run), its longest stage must have
# the first CPU.  make gives a free job slot to the next ready target of
# its walk through the goals, resumed where it stopped, so check's stages
# wait until the debug VMs are ready to start: then the walk, from the
# first goal, reaches those first.
ifneq ($(filter check-debug coverage,$(MAKECMDGOALS)),)
$(CHECK_STAGES): | debug-guest
endif

vm-module:
	@test -n "$(VM_KVER)" || { echo "VM_KVER is not set"; exit 1; }
	$(MAKE) -C $(VM_KDIR) M=$(CURDIR) W=1 modules

# The framework files and our directory, copied with their times, so
# that only what changed is rebuilt.  ksft-install builds the tree first;
# the arm64 build (in a directory of its own, O=) and the debug programs
# (make debug, beside ksft-install's objects) come after it.
ksft-tree: deps
	$(KSFT_SOFT)@test -f $(KSFT_SRC)/Makefile || scripts/kernel.sh $(KSFT_KERNEL) >/dev/null
	$(KSFT_SOFT)@test -f $(KSFT_SRC)/tools/testing/selftests/lib.mk || \
		{ echo "KSFT_SRC=$(KSFT_SRC): no kselftest framework there"; exit 1; }
	$(KSFT_SOFT)@mkdir -p $(KSFT_TREE)/scripts $(KSFT_OUT)
	$(KSFT_SOFT)@cp -p $(KSFT_SRC)/scripts/subarch.include $(KSFT_TREE)/scripts/
	$(KSFT_SOFT)@cp -p $(addprefix $(KSFT_SRC)/tools/testing/selftests/,$(KSFT_FILES)) \
		$(KSFT_DIR)/
	$(KSFT_SOFT)@cp -pr $(KSFT_SRC)/tools/testing/selftests/kselftest $(KSFT_DIR)/
	$(KSFT_SOFT)@cp -p $(filter-out %/run.sh %/check-debug.sh %/bench.sh \
		%/profile.sh %/demo.sh %/bench.c %/demo.c,$(wildcard selftests/zxmem/*.[ch] \
		selftests/zxmem/*.sh)) selftests/zxmem/Makefile \
		selftests/zxmem/config selftests/zxmem/settings $(KSFT_OUT)/

# What LKFT runs: the installed kselftest tree.
ksft-install: ksft-tree
	$(KSFT_SOFT)@rm -rf $(KSFT_INSTALL)
	$(KSFT_SOFT)@$(KSFT_MAKE) KSFT_INSTALL_PATH=$(KSFT_INSTALL) install >/dev/null

# The same tree cross-built for the arm64 kernels (names ending in -arm64),
# in a build directory of its own; compat_test, an x86 32-bit caller, is
# not in it.
KSFT_INSTALL_ARM64 = $(KSFT_INSTALL)-arm64
ksft-install-arm64: ksft-tree ksft-install
	$(KSFT_SOFT)@rm -rf $(KSFT_INSTALL_ARM64)
	$(KSFT_SOFT)@$(KSFT_MAKE) ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
		O=$(CURDIR)/build/kselftest/arm64 \
		KSFT_INSTALL_PATH=$(KSFT_INSTALL_ARM64) install >/dev/null

ksft-debug: ksft-tree ksft-install
	$(KSFT_SOFT)@$(MAKE) --no-print-directory -C $(KSFT_OUT) OUTPUT=$(KSFT_OUT) \
		ZXMEM_SRC=$(CURDIR) debug

# make vm-test: the VM suite alone, kernel after kernel.
vm-check: $(addprefix stage-vm-,$(KVER))
	@scripts/summary.sh $(foreach k,$(KVER),$(VM_OUT)/$(k)/counts)

# make pkg-test: the packages, installed with apt-get, DKMS's module
# booted in the 6.1 VM (scripts/pkg-test.sh); make check's stage-pkg.
pkg-check: stage-pkg
	@scripts/summary.sh build/pkg.counts

# The debug kernels are slow under TCG: KASAN and lockdep on every access,
# or KCSAN's watchpoints.  check-debug.sh runs the programs itself, from
# /root.  7.2-debug is the longest stage of all: it comes first.
DEBUG_COUNTS = $(VM_OUT)/$(DEBUG_KERNEL)/counts \
	       $(VM_OUT)/$(DEBUG_KERNEL)/coverage.counts \
	       $(VM_OUT)/$(KCSAN_KERNEL)/counts
DEBUG_GUEST = $$(sed 's|^|$(KSFT_OUT)/|' $(KSFT_OUT)/zxmem_tests.list \
		$(KSFT_OUT)/zxmem_debug.list) \
	      $(KSFT_OUT)/zxmem_tests.list
debug-all: stage-debug stage-coverage stage-kcsan
	@echo "== make check-debug: the stages' counts"
	@scripts/summary.sh $(DEBUG_COUNTS)

debug-guest: ksft-install ksft-debug | debug-reset
	@rm -rf $(VM_OUT)/debug-guest && mkdir -p $(VM_OUT)/debug-guest
	@cp selftests/zxmem/check-debug.sh $(VM_OUT)/debug-guest/run.sh
# A stage that does not run leaves no counts, not an earlier run's.
debug-reset:
	@rm -f $(DEBUG_COUNTS)
stage-debug: debug-guest
	$(STAGE) $(DEBUG_KERNEL) $(VM_OUT)/$(DEBUG_KERNEL)/counts \
		env ZXMEM_VM_TIMEOUT=3600 ZXMEM_VM_APPEND="loglevel=5" \
		scripts/vm-suite.sh --expect $(ZXMEM_EXPECT) $(DEBUG_KERNEL) \
		$(VM_OUT)/$(DEBUG_KERNEL) $(DEBUG_GUEST) \
		selftests/zxmem/gcov-dump.sh $(VM_OUT)/debug-guest/run.sh
stage-coverage: stage-debug
	$(STAGE) coverage $(VM_OUT)/$(DEBUG_KERNEL)/coverage.counts \
		env ZXMEM_COVERAGE_GATE=$(COVERAGE_GATE) scripts/coverage.sh \
		$(VM_OUT)/$(DEBUG_KERNEL) $(COVERAGE_HTML)
# KCSAN calls check_panic_on_warn() on each report: the reports are for
# vm-run.sh to judge, not a reason to stop the kernel.
stage-kcsan: debug-guest
	$(STAGE) $(KCSAN_KERNEL) $(VM_OUT)/$(KCSAN_KERNEL)/counts \
		env ZXMEM_VM_TIMEOUT=3600 ZXMEM_VM_APPEND="loglevel=5 panic_on_warn=0" \
		scripts/vm-suite.sh --expect $(ZXMEM_EXPECT) $(KCSAN_KERNEL) \
		$(VM_OUT)/$(KCSAN_KERNEL) $(DEBUG_GUEST) $(VM_OUT)/debug-guest/run.sh

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

# The report is the guest's "profile:" lines, in build/vm/profile/.
vm-profile: vm-module selftests/zxmem/bench
	@rm -rf $(VM_OUT)/profile && mkdir -p $(VM_OUT)/profile
	@cp selftests/zxmem/profile.sh $(VM_OUT)/profile/run.sh
	@scripts/perf-bundle.sh $(VM_OUT)/profile/perf
	@scripts/mkinitramfs.sh $(VM_OUT)/profile/initrd.cpio.gz zxmem.ko \
		selftests/zxmem/bench $(VM_OUT)/profile/run.sh \
		$(VM_OUT)/profile/perf
	@scripts/vm-run.sh --kernel $(VM_KERNEL) \
		--initrd $(VM_OUT)/profile/initrd.cpio.gz \
		--out $(VM_OUT)/profile --timeout 900 --quiet
	@sed -n 's/^profile: \{0,1\}//p' $(VM_OUT)/profile/console.log \
		>$(VM_OUT)/profile/profile.txt
	@cat $(VM_OUT)/profile/profile.txt

vm-demo: vm-module selftests/zxmem/demo
	@rm -rf $(VM_OUT)/demo && mkdir -p $(VM_OUT)/demo
	@cp selftests/zxmem/demo.sh $(VM_OUT)/demo/run.sh
	@scripts/mkinitramfs.sh $(VM_OUT)/demo/initrd.cpio.gz zxmem.ko \
		selftests/zxmem/demo $(VM_OUT)/demo/run.sh
	@scripts/vm-run.sh --kernel $(VM_KERNEL) \
		--initrd $(VM_OUT)/demo/initrd.cpio.gz \
		--out $(VM_OUT)/demo --timeout 300
