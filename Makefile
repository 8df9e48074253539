# heapstat: make | make check | make demo | make bench | make kernel | make vmlinux.h
#           | make install | make uninstall | make man | make deb | make arm64 | make fuzz
#           | make debug | make kernels | make check-all
# V=1 shows the commands.

V ?= 0
ifeq ($(V),1)
Q :=
msg := @true
else
Q := @
msg = @printf '  %-7s %s\n'
endif

BUILD ?= build
CLANG ?= clang
BPFTOOL ?= bpftool
LLVM_STRIP ?= llvm-strip
CC ?= gcc
CFLAGS ?= -O2 -g
prefix ?= /usr/local
# the one place the version lives: heapstat --version, the man pages, the
# packages (debian/changelog and kernel/dkms.conf must agree: make deb checks)
VERSION := $(shell cat VERSION)
KVER ?= 7.2
export V KVER
ifdef KSRC
export KSRC
endif

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
# the inventory's iterators, the removed cgroups' names and a cgroup's level are light
# skeletons (see bpf/dmabuf_iter.bpf.c, bpf/cgroup_iter.bpf.c, bpf/cgroup_names.bpf.c,
# bpf/cgroup_level.bpf.c)
# the collector three times: whole, and the BTF-typed mode's with its fsession program (7.0+)
# and without (see bpf/collector.bpf.c)
SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.skel.h,\
	$(filter-out bpf/dmabuf_iter.bpf.c bpf/cgroup_iter.bpf.c bpf/cgroup_names.bpf.c \
	bpf/cgroup_level.bpf.c,$(BPF_SRCS))) \
	$(BUILD)/bpf/collector_fs.skel.h $(BUILD)/bpf/collector_tr.skel.h
LSKELS := $(BUILD)/bpf/dmabuf_iter.lskel.h $(BUILD)/bpf/dmabuf_iter_tasks.lskel.h \
	$(BUILD)/bpf/cgroup_iter.lskel.h $(BUILD)/bpf/cgroup_names.lskel.h \
	$(BUILD)/bpf/cgroup_level.lskel.h
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tools/lib/*.c cgroup/*.c))
TOOL_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tools/*.c tools/report/*.c tools/top/*.c tools/limit/*.c \
	tools/record/*.c tools/export/*.c))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(wildcard tests/unit/*.c))
VM_TESTS := $(patsubst tests/vm/%.c,$(BUILD)/tests/%,$(filter-out tests/vm/leaker.c,\
	$(wildcard tests/vm/*.c)))
LEAKER := $(BUILD)/tests/leaker
# the ioctl stress program (tests/stress/, run by tests/vm/stress_test.sh)
STRESS := $(BUILD)/tests/heap_stress
# upstream's dmabuf-heaps kselftest, for tests/vm/kselftest_test.sh
KSELFTEST := $(BUILD)/tests/dmabuf-heap
# benchmark programs, run in the VM like the tests (tbcount.c is a QEMU plugin
# that tests/bench/profile.sh builds for the host)
BENCH_PROGS := $(patsubst tests/bench/%.c,$(BUILD)/tests/%,\
	$(filter-out tests/bench/tbcount.c tests/bench/ballast.c,$(wildcard tests/bench/*.c)))

# clang 14 needs the ms extensions for the anonymous struct members of 7.x BTF;
# v3: atomics that return a value (5.12+)
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -fms-extensions \
	-Wno-microsoft-anon-tag -Wall -I. -Ibpf
USER_CFLAGS := $(CFLAGS) -Wall -Wextra -std=gnu11 -I$(BUILD)/bpf -I. -Itools -Ibpf -MMD -MP \
	-DHEAPSTAT_VERSION='"$(VERSION)"'
LIBS := -lbpf -lelf -lz -lpthread -lcgroup

.PHONY: all deps modules arm64 san debug kernels check check-all bench demo kernel install uninstall \
	man deb clean distclean fuzz fuzz-build
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BUILD)/heapstat man $(VM_TESTS) $(LEAKER) $(STRESS) $(BENCH_PROGS) $(UNIT_TESTS) $(KSELFTEST) \
	modules

# DEPS=0: the packages are there already (a Debian build: its Build-Depends).
# Goals that build only the tool ask for its packages alone, not the kernel
# build's, the VMs' and the tests' (scripts/deps.sh's groups)
DEPS ?= 1
TOOL_GOALS := install uninstall man $(BUILD)/heapstat
DEPS_GROUPS := $(strip $(if $(filter-out $(TOOL_GOALS) deb,$(or $(MAKECMDGOALS),all)),,tool \
	$(if $(filter deb,$(MAKECMDGOALS)),package)))
deps:
	$(Q)[ "$(DEPS)" = 0 ] || scripts/deps.sh $(DEPS_GROUPS)

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) vmlinux.h | deps
	$(msg) BPF $@
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bpf/dmabuf_iter_tasks.bpf.o: bpf/dmabuf_iter.bpf.c $(wildcard bpf/*.h) vmlinux.h | deps
	$(msg) BPF $@
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DINV_TASKS_ONLY -c $< -o $@

$(BUILD)/bpf/collector_fs.bpf.o: bpf/collector.bpf.c $(wildcard bpf/*.h) vmlinux.h | deps
	$(msg) BPF $@
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DCOLL_TRACING_ONLY -DCOLL_FSESSION -c $< -o $@

$(BUILD)/bpf/collector_tr.bpf.o: bpf/collector.bpf.c $(wildcard bpf/*.h) vmlinux.h | deps
	$(msg) BPF $@
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DCOLL_TRACING_ONLY -c $< -o $@

# (x86's in $(BUILD)/bpf, arm64's in $(ARM64)/bpf) embedded without their
# DWARF, which nothing loading them reads (BTF stays): a third of the size
$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(msg) GEN-SKEL $@
	$(Q)$(LLVM_STRIP) -g $< -o $@.o && \
	$(BPFTOOL) gen skeleton $@.o name $(subst .,_,$(notdir $(basename $(basename $<)))_bpf) >$@; \
	rc=$$?; rm -f $@.o; exit $$rc

# a light skeleton: loaded by a BPF program that the kernel runs (5.17+)
$(BUILD)/%.lskel.h: $(BUILD)/%.bpf.o
	$(msg) GEN-SKEL $@
	$(Q)$(BPFTOOL) gen skeleton -L $< name $(notdir $(basename $(basename $<)))_lskel >$@

# every user-space object may include a skeleton
$(BUILD)/%.o: %.c $(SKELS) $(LSKELS) | deps
	$(msg) CC $@
	@mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(BUILD)/heapstat: $(TOOL_OBJS) $(LIB_OBJS)
	$(msg) LINK $@
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -lncursesw -o $@

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(LIB_OBJS)
	$(msg) LINK $@
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@
$(BUILD)/tests/unit/latency_test: LIBS += -lm
$(BUILD)/tests/unit/analysis_test: $(BUILD)/tools/record/analysis.o $(BUILD)/tools/record/checks.o
$(BUILD)/tests/unit/flight_test: $(BUILD)/tools/record/flight.o
# its test fixes the wall clock that names a recording
$(BUILD)/tests/unit/flight_test: LIBS += -Wl,--wrap=clock_gettime

# VM tests and benchmarks use uapi headers newer than the host's (drm): the
# kernel's own
$(BUILD)/tests/vm/%.o $(BUILD)/tests/bench/%.o: USER_CFLAGS += -isystem $(KERNEL_BUILD)/usr/include
KERNEL_BUILD = $(shell scripts/kernel-build.sh)

# both land in build/tests/, which the VM puts on PATH (scripts/initramfs.sh)
$(VM_TESTS): $(BUILD)/tests/%: $(BUILD)/tests/vm/%.o $(LIB_OBJS)
	$(msg) LINK $@
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

# tests/vm/record_stacks_test.sh's program: frame pointers (the kernel walks
# user stacks by them only) and a build id the test knows
LEAKER_BUILD_ID := 686561707374617420737461636b73206c65616b
$(BUILD)/tests/vm/leaker.o: USER_CFLAGS += -fno-omit-frame-pointer
$(LEAKER): $(BUILD)/tests/vm/leaker.o
	$(msg) LINK $@
	$(Q)$(CC) $(CFLAGS) $^ -Wl,--build-id=0x$(LEAKER_BUILD_ID) -o $@

# heap_stress asserts docs/errors.md's table, made into a header here: one
# copy of the table, the documented one
$(BUILD)/tests/stress/errors.h: docs/errors.md tests/stress/errors.awk
	$(msg) GEN $@
	@mkdir -p $(@D)
	$(Q)awk -f tests/stress/errors.awk $< >$@
$(BUILD)/tests/stress/heap_stress.o: $(BUILD)/tests/stress/errors.h
$(BUILD)/tests/stress/%.o: USER_CFLAGS += -isystem $(KERNEL_BUILD)/usr/include -I$(BUILD)/tests/stress
$(STRESS): $(BUILD)/tests/stress/heap_stress.o $(LIB_OBJS)
	$(msg) LINK $@
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

# upstream's dmabuf-heaps kselftest (KSELFTEST), from the reference kernel's tree
$(KSELFTEST): | deps
	$(msg) CC $@
	$(Q)mkdir -p $(@D) && src=$(KERNEL_BUILD)/source/tools/testing/selftests && \
	$(CC) -O2 -Wall -I$$src -isystem $(KERNEL_BUILD)/usr/include \
		$$src/dmabuf-heaps/dmabuf-heap.c -o $@

$(BENCH_PROGS): $(BUILD)/tests/%: $(BUILD)/tests/bench/%.o $(BUILD)/tests/bench/ballast.o $(LIB_OBJS)
	$(msg) LINK $@
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

# heap modules and the test importer, against the reference kernel unless
# KDIR= names another build
modules: deps
	$(Q)kdir=$${KDIR:-$$(scripts/kernel-build.sh)} && \
	$(MAKE) -s -C kernel KDIR=$$kdir MO=$(abspath $(BUILD))/kernel $(if $(filter 1,$(V)),V=1) >/dev/null && \
	$(MAKE) -s -C $$kdir M=$(CURDIR)/tests/kmod MO=$(abspath $(BUILD))/tests/kmod $(if $(filter 1,$(V)),V=1) modules >/dev/null

# the debug kernel (KFLAVOR=debug: KASAN, KFENCE, lockdep, kmemleak), and the
# heap modules and the test importer built against it in $(BUILD)/debug: its
# release is 7.2.x-debug, so the VM's initramfs takes these for it and the
# reference build's for the reference kernel (scripts/initramfs.sh)
debug: deps
	$(Q)kdir=$$(KFLAVOR=debug scripts/kernel-build.sh) && \
	$(MAKE) -s -C kernel KDIR=$$kdir MO=$(abspath $(BUILD))/debug/kernel $(if $(filter 1,$(V)),V=1) >/dev/null && \
	$(MAKE) -s -C $$kdir M=$(CURDIR)/tests/kmod MO=$(abspath $(BUILD))/debug/tests/kmod \
		$(if $(filter 1,$(V)),V=1) modules >/dev/null

# the other kernels of the matrix, cached: bookworm's 6.12 and 6.1 (no heap
# modules: they need 7.1+), and 7.2's preemptible flavour (upstream's heaps only)
kernels: deps
	$(Q)for v in 6.12 6.1; do KVER=$$v scripts/kernel-build.sh >/dev/null || exit; done
	$(Q)KVER=7.2 KFLAVOR=preempt scripts/kernel-build.sh >/dev/null

# the arm64 side of the device-tree tests (tests/boot/carveout_dt.sh, cma_areas.sh):
# the arm64 kernel, the heap modules and the test importer built against it,
# and as static arm64 binaries heapstat (heaptop a link to it), heap_test,
# cma_areas, dmabuf_alloc and the VM's init: its initramfs holds no libraries
ARM64 := $(BUILD)/arm64
ARM64_CROSS := ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-
ARM64_CC := aarch64-linux-gnu-gcc
ARM64_CFLAGS := -O2 -Wall -Wextra -std=gnu11 -I$(ARM64)/bpf -I. -Itools -Ibpf -MMD -MP \
	-DHEAPSTAT_VERSION='"$(VERSION)"'
# Debian's arm64 libraries (scripts/deps.sh), static; ncursesw needs its tinfo
ARM64_LIBS := $(LIBS) -lncursesw -ltinfo
# BPF bytecode is the same on both architectures except where a program reads
# a kprobe's registers (PT_REGS_*: the collector's kprobe fallback), whose
# layout -D__TARGET_ARCH_ picks. So the BPF objects and skeletons are built
# once more for arm64 (a few seconds), rather than x86's reused: those would
# read x86's registers on an arm64 kernel that has BPF (this VM's has none).
ARM64_SKELS := $(patsubst $(BUILD)/bpf/%,$(ARM64)/bpf/%,$(SKELS) $(LSKELS))
ARM64_OBJS := $(patsubst $(BUILD)/%,$(ARM64)/%,$(TOOL_OBJS) $(LIB_OBJS))
ARM64_BPF_CFLAGS := $(subst -D__TARGET_ARCH_x86,-D__TARGET_ARCH_arm64,$(BPF_CFLAGS))

arm64: deps $(ARM64)/heapstat $(ARM64)/heaptop
	$(msg) ARM64 $(ARM64)
	$(Q)kdir=$$(KARCH=arm64 scripts/kernel-build.sh) && mkdir -p $(ARM64) && \
	$(MAKE) -s -C kernel KDIR=$$kdir $(ARM64_CROSS) MO=$(abspath $(ARM64))/kernel >/dev/null && \
	$(MAKE) -s -C $$kdir M=$(CURDIR)/tests/kmod MO=$(abspath $(ARM64))/tests/kmod \
		$(ARM64_CROSS) modules >/dev/null && \
	$(ARM64_CC) -static -O2 -Wall -Wextra -std=gnu11 -I. -isystem $$kdir/usr/include \
		tests/vm/heap_test.c cgroup/dmem.c -o $(ARM64)/heap_test && \
	$(ARM64_CC) -static -O2 -Wall -Wextra -std=gnu11 -isystem $$kdir/usr/include \
		tests/dt/cma_areas.c -o $(ARM64)/cma_areas && \
	$(ARM64_CC) -static -O2 -Wall -Wextra -std=gnu11 -I. -Itools -isystem $$kdir/usr/include \
		tests/vm/dmabuf_alloc.c tools/lib/util.c -o $(ARM64)/dmabuf_alloc && \
	$(ARM64_CC) -static -O2 -Wall -Wextra -I. tests/dt/init.c cgroup/dmem.c -o $(ARM64)/init

$(ARM64)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) vmlinux.h | deps
	$(msg) BPF $@
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(ARM64_BPF_CFLAGS) -c $< -o $@

$(ARM64)/bpf/dmabuf_iter_tasks.bpf.o: bpf/dmabuf_iter.bpf.c $(wildcard bpf/*.h) vmlinux.h | deps
	$(msg) BPF $@
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(ARM64_BPF_CFLAGS) -DINV_TASKS_ONLY -c $< -o $@

$(ARM64)/bpf/collector_fs.bpf.o: bpf/collector.bpf.c $(wildcard bpf/*.h) vmlinux.h | deps
	$(msg) BPF $@
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(ARM64_BPF_CFLAGS) -DCOLL_TRACING_ONLY -DCOLL_FSESSION -c $< -o $@

$(ARM64)/bpf/collector_tr.bpf.o: bpf/collector.bpf.c $(wildcard bpf/*.h) vmlinux.h | deps
	$(msg) BPF $@
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(ARM64_BPF_CFLAGS) -DCOLL_TRACING_ONLY -c $< -o $@

$(ARM64)/%.o: %.c $(ARM64_SKELS) | deps
	$(msg) CC $@
	@mkdir -p $(@D)
	$(Q)$(ARM64_CC) $(ARM64_CFLAGS) -c $< -o $@

# the linker warns of libcgroup's user and group look-ups (NSS, which a static
# binary lacks): its rules-file and task-moving calls, which heapstat makes none of
$(ARM64)/heapstat: $(ARM64_OBJS)
	$(msg) LINK $@
	$(Q)$(ARM64_CC) -static $^ $(ARM64_LIBS) -o $@ 2>$@.ld; rc=$$?; \
	grep -v -e 'in statically linked applications requires' -e ': in function ' $@.ld >&2; \
	rm -f $@.ld; exit $$rc

$(ARM64)/heaptop: $(ARM64)/heapstat
	$(Q)ln -sf heapstat $@

# heapstat and the unit tests under ASan and UBSan (make check runs them on the
# host: the unit tests, the host's command lines, analyze on the fuzzer's
# seeds): objects of their own in $(SAN), the skeletons x86's
SAN := $(BUILD)/san
SAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
SAN_LIB_OBJS := $(patsubst $(BUILD)/%,$(SAN)/%,$(LIB_OBJS))
SAN_UNIT_TESTS := $(patsubst $(BUILD)/%,$(SAN)/%,$(UNIT_TESTS))

san: $(SAN)/heapstat $(SAN_UNIT_TESTS)

$(SAN)/%.o: %.c $(SKELS) $(LSKELS) | deps
	$(msg) CC-SAN $@
	@mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) $(SAN_CFLAGS) -c $< -o $@

$(SAN)/heapstat: $(patsubst $(BUILD)/%,$(SAN)/%,$(TOOL_OBJS)) $(SAN_LIB_OBJS)
	$(msg) LINK $@
	$(Q)$(CC) $(SAN_CFLAGS) $^ $(LIBS) -lncursesw -o $@

$(SAN)/tests/unit/%: $(SAN)/tests/unit/%.o $(SAN_LIB_OBJS)
	$(msg) LINK $@
	$(Q)$(CC) $(SAN_CFLAGS) $^ $(LIBS) -o $@

$(SAN)/tests/unit/latency_test: LIBS += -lm
$(SAN)/tests/unit/analysis_test: $(SAN)/tools/record/analysis.o $(SAN)/tools/record/checks.o
$(SAN)/tests/unit/flight_test: $(SAN)/tools/record/flight.o
$(SAN)/tests/unit/flight_test: LIBS += -Wl,--wrap=clock_gettime

# the recording reader and heapstat analyze under libFuzzer, ASan and UBSan,
# FUZZ_SECS seconds (60) each; their seeds made by the writer (scripts/fuzz.sh).
# Apart from all: clang's sanitizer runtimes are a build of their own.
FUZZ_SECS ?= 60
FUZZ_CFLAGS := -g -O1 -Wall -Wextra -std=gnu11 -I. -Itools -Ibpf -Itests/unit \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-DHEAPSTAT_VERSION='"$(VERSION)"'
RECORD_SRCS := $(wildcard tools/lib/record*.c) tools/lib/util.c tools/lib/hindex.c
RECORD_HDRS := $(wildcard tools/lib/record*.h) tools/lib/util.h tools/lib/hindex.h \
	tests/unit/record_samples.h \
	tests/fuzz/fix_checksums.h
# analyze: the recording's analysis and every output of it, without libbpf
ANALYZE_SRCS := $(filter-out tools/record/record.c tools/record/flight.c tools/record/stacks.c \
	tools/record/refusals.c,$(wildcard tools/record/*.c)) tools/lib/text.c tools/lib/json.c
ANALYZE_HDRS := $(wildcard tools/record/*.h tools/lib/*.h bpf/*.h) tools/heapstat.h

fuzz: fuzz-build
	$(Q)FUZZ_SECS=$(FUZZ_SECS) scripts/fuzz.sh

fuzz-build: $(BUILD)/fuzz/record_fuzz $(BUILD)/fuzz/analyze_fuzz $(BUILD)/fuzz/record_seed

$(BUILD)/fuzz/record_fuzz: tests/fuzz/record_fuzz.c $(RECORD_SRCS) $(RECORD_HDRS) | deps
	$(msg) FUZZ $@
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(filter %.c,$^) -o $@

$(BUILD)/fuzz/analyze_fuzz: tests/fuzz/analyze_fuzz.c $(ANALYZE_SRCS) $(RECORD_SRCS) \
		$(ANALYZE_HDRS) $(RECORD_HDRS) VERSION | deps
	$(msg) FUZZ $@
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(filter %.c,$^) -o $@

$(BUILD)/fuzz/record_seed: tests/fuzz/record_seed.c $(RECORD_SRCS) $(RECORD_HDRS) | deps
	$(msg) CC $@
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Wall -Wextra -std=gnu11 -I. -Itools -Itests/unit \
		$(filter %.c,$^) -o $@

# the reference kernel (cached in ~/.cache/heapstat; KVER=6.12 or KSRC=DIR for others)
kernel: deps
	$(Q)scripts/kernel-build.sh >/dev/null

vmlinux.h:
	$(Q)scripts/gen-vmlinux-h.sh

check: all arm64 san
	$(Q)scripts/check.sh

# check, and the whole VM suite on the debug kernel (make debug, built by
# scripts/check.sh in the background)
check-all: all arm64 san
	$(Q)scripts/check.sh --all

bench: all
	$(Q)scripts/bench.sh

demo: all
	$(Q)scripts/demo.sh

# the version is compiled into these
$(BUILD)/tools/heapstat.o $(BUILD)/tools/record/html.o $(ARM64)/tools/heapstat.o \
	$(ARM64)/tools/record/html.o: VERSION

# man pages: one scdoc source each (tools/man/), the version and date filled in.
# heapstat-top(8) is a link to heaptop(8); export's page comes with export.
MAN_SRCS := $(filter-out $(if $(wildcard tools/export/*.c),,tools/man/heapstat-export.8.scd),\
	$(wildcard tools/man/*.8.scd))
MANS := $(patsubst tools/man/%.scd,$(BUILD)/man/%,$(MAN_SRCS))
# dated by the version's last change (scdoc reads SOURCE_DATE_EPOCH)
MAN_EPOCH := $(shell echo $${SOURCE_DATE_EPOCH:-$$(git log -1 --format=%ct -- VERSION 2>/dev/null | \
	grep . || stat -c %Y VERSION)})

man: $(MANS)

# (scdoc's status checked: make's sh has no pipefail, and awk makes a page of nothing)
$(BUILD)/man/%.8: tools/man/%.8.scd tools/man/tidy.awk VERSION | deps
	$(msg) SCDOC $@
	@mkdir -p $(@D)
	$(Q)sed 's/@VERSION@/$(VERSION)/g' $< | SOURCE_DATE_EPOCH=$(MAN_EPOCH) scdoc >$@.roff && \
		awk -f tools/man/tidy.awk $@.roff >$@ && rm -f $@.roff

# make install: DESTDIR, prefix (/usr/local). The tools, their man pages and
# completion, the exporter's systemd unit (when there is an exporter; its
# ExecStart= names $(sbindir), filled in for @SBINDIR@), and the
# heap modules' sources for DKMS in /usr/src (dkms add -m heapstat -v VERSION).
sbindir = $(prefix)/sbin
mandir = $(prefix)/share/man
bashcompdir = $(prefix)/share/bash-completion/completions
systemdunitdir = $(prefix)/lib/systemd/system
dkmsdir = /usr/src/heapstat-$(VERSION)
# the heapstat-dkms package's sources there (a system install, no DESTDIR):
# neither written over nor removed, said
dkms_packaged = { [ -z "$(DESTDIR)" ] && dpkg -S $(dkmsdir) >/dev/null 2>&1 && \
	echo "make: $(dkmsdir) is the heapstat-dkms package's: left as it is"; }
UNIT := $(wildcard tools/export/heapstat-export.service)
DKMS_SRCS := kernel/Kbuild kernel/Makefile $(wildcard kernel/*.c kernel/*.h kernel/trace/*.h)

install: $(BUILD)/heapstat $(MANS)
	install -D -m 0755 $(BUILD)/heapstat $(DESTDIR)$(sbindir)/heapstat
	ln -sf heapstat $(DESTDIR)$(sbindir)/heaptop
	install -d $(DESTDIR)$(mandir)/man8
	for m in $(MANS); do gzip -9n <$$m >$(DESTDIR)$(mandir)/man8/$${m##*/}.gz || exit; done
	ln -sf heaptop.8.gz $(DESTDIR)$(mandir)/man8/heapstat-top.8.gz
	install -D -m 0644 tools/completion/heapstat $(DESTDIR)$(bashcompdir)/heapstat
	ln -sf heapstat $(DESTDIR)$(bashcompdir)/heaptop
	$(if $(UNIT),install -d $(DESTDIR)$(systemdunitdir) && \
		sed 's|@SBINDIR@|$(sbindir)|g' $(UNIT) >$(DESTDIR)$(systemdunitdir)/heapstat-export.service && \
		chmod 0644 $(DESTDIR)$(systemdunitdir)/heapstat-export.service)
	$(dkms_packaged) || { \
	for f in $(DKMS_SRCS); do install -D -m 0644 $$f $(DESTDIR)$(dkmsdir)/$${f#kernel/} || exit; done && \
	sed 's/^PACKAGE_VERSION=.*/PACKAGE_VERSION="$(VERSION)"/' kernel/dkms.conf \
		>$(DESTDIR)$(dkmsdir)/dkms.conf; }

uninstall:
	rm -f $(DESTDIR)$(sbindir)/heapstat $(DESTDIR)$(sbindir)/heaptop
	rm -f $(patsubst $(BUILD)/man/%,$(DESTDIR)$(mandir)/man8/%.gz,$(MANS)) \
		$(DESTDIR)$(mandir)/man8/heapstat-export.8.gz $(DESTDIR)$(mandir)/man8/heapstat-top.8.gz
	rm -f $(DESTDIR)$(bashcompdir)/heapstat $(DESTDIR)$(bashcompdir)/heaptop
	rm -f $(DESTDIR)$(systemdunitdir)/heapstat-export.service
	$(dkms_packaged) || rm -rf $(DESTDIR)$(dkmsdir)

# make deb: the Debian packages heapstat (the tools) and heapstat-dkms (the heap
# modules' sources) into $(BUILD)/deb, built by dpkg-buildpackage in a copy of
# this tree (its clean step would otherwise remove build/). No kernel needed.
DEB_DIR := $(BUILD)/deb
deb: deps
	$(Q)scripts/deb.sh $(DEB_DIR)

clean:
	rm -rf $(BUILD)

# also drops the cached kernels
distclean: clean
	rm -rf $${HEAPSTAT_CACHE:-$$HOME/.cache/heapstat}

-include $(shell find $(BUILD)/ -name '*.d' 2>/dev/null)
