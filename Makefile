# heapstat: make | make check | make demo | make bench | make kernel | make vmlinux.h
#           | make install | make arm64
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
CC ?= gcc
CFLAGS ?= -O2 -g
prefix ?= /usr/local
KVER ?= 7.2
export V KVER
ifdef KSRC
export KSRC
endif

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
# the inventory's iterators are light skeletons (see bpf/dmabuf_iter.bpf.c)
SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.skel.h,$(filter-out bpf/dmabuf_iter.bpf.c,$(BPF_SRCS)))
LSKELS := $(BUILD)/bpf/dmabuf_iter.lskel.h $(BUILD)/bpf/dmabuf_iter_tasks.lskel.h
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tools/lib/*.c cgroup/*.c))
TOOL_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tools/*.c tools/report/*.c tools/top/*.c tools/limit/*.c))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(wildcard tests/unit/*.c))
VM_TESTS := $(patsubst tests/vm/%.c,$(BUILD)/tests/%,$(wildcard tests/vm/*.c))
# benchmark programs, run in the VM like the tests (tbcount.c is a QEMU plugin
# that tests/bench/profile.sh builds for the host)
BENCH_PROGS := $(patsubst tests/bench/%.c,$(BUILD)/tests/%,\
	$(filter-out tests/bench/tbcount.c,$(wildcard tests/bench/*.c)))

# clang 14 needs the ms extensions for the anonymous struct members of 7.x BTF;
# v3: atomics that return a value (5.12+)
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -fms-extensions \
	-Wno-microsoft-anon-tag -Wall -I. -Ibpf
USER_CFLAGS := $(CFLAGS) -Wall -Wextra -std=gnu11 -I$(BUILD)/bpf -I. -Itools -Ibpf -MMD -MP
LIBS := -lbpf -lelf -lz -lpthread -lcgroup

.PHONY: all deps modules arm64 check bench demo kernel install clean distclean
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BUILD)/heapstat $(VM_TESTS) $(BENCH_PROGS) $(UNIT_TESTS) modules

deps:
	$(Q)scripts/deps.sh

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) vmlinux.h | deps
	$(msg) BPF $@
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bpf/dmabuf_iter_tasks.bpf.o: bpf/dmabuf_iter.bpf.c $(wildcard bpf/*.h) vmlinux.h | deps
	$(msg) BPF $@
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DINV_TASKS_ONLY -c $< -o $@

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(msg) GEN-SKEL $@
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst .,_,$(notdir $(basename $(basename $<)))_bpf) >$@

# a light skeleton: loaded by a BPF program that the kernel runs (5.17+)
$(BUILD)/bpf/%.lskel.h: $(BUILD)/bpf/%.bpf.o
	$(msg) GEN-SKEL $@
	$(Q)$(BPFTOOL) gen skeleton -L $< name $(notdir $(basename $(basename $<)))_lskel >$@

# every user-space object may include a skeleton
$(BUILD)/%.o: %.c $(SKELS) $(LSKELS) | deps
	$(msg) CC $@
	@mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(BUILD)/heapstat: $(TOOL_OBJS) $(LIB_OBJS)
	$(msg) LINK $@
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -lncurses -o $@

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(LIB_OBJS)
	$(msg) LINK $@
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

# VM tests and benchmarks use uapi headers newer than the host's (drm): the
# kernel's own
$(BUILD)/tests/vm/%.o $(BUILD)/tests/bench/%.o: USER_CFLAGS += -isystem $(KERNEL_BUILD)/usr/include
KERNEL_BUILD = $(shell scripts/kernel-build.sh)

# both land in build/tests/, which the VM puts on PATH (scripts/initramfs.sh)
$(VM_TESTS): $(BUILD)/tests/%: $(BUILD)/tests/vm/%.o $(LIB_OBJS)
	$(msg) LINK $@
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

$(BENCH_PROGS): $(BUILD)/tests/%: $(BUILD)/tests/bench/%.o $(LIB_OBJS)
	$(msg) LINK $@
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

# heap modules and the test importer, against the reference kernel unless
# KDIR= names another build
modules: deps
	$(Q)kdir=$${KDIR:-$$(scripts/kernel-build.sh)} && \
	$(MAKE) -s -C kernel KDIR=$$kdir MO=$(abspath $(BUILD))/kernel $(if $(filter 1,$(V)),V=1) >/dev/null && \
	$(MAKE) -s -C $$kdir M=$(CURDIR)/tests/kmod MO=$(abspath $(BUILD))/tests/kmod $(if $(filter 1,$(V)),V=1) modules >/dev/null

# the arm64 side of the device-tree tests (tests/boot/carveout_dt.sh, cma_areas.sh):
# the arm64 kernel, the heap modules and the test importer built against it,
# heap_test, cma_areas and the VM's init as static arm64 binaries
ARM64 := $(BUILD)/arm64
ARM64_CROSS := ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-
arm64: deps
	$(msg) ARM64 $(ARM64)
	$(Q)kdir=$$(KARCH=arm64 scripts/kernel-build.sh) && mkdir -p $(ARM64) && \
	$(MAKE) -s -C kernel KDIR=$$kdir $(ARM64_CROSS) MO=$(abspath $(ARM64))/kernel >/dev/null && \
	$(MAKE) -s -C $$kdir M=$(CURDIR)/tests/kmod MO=$(abspath $(ARM64))/tests/kmod \
		$(ARM64_CROSS) modules >/dev/null && \
	aarch64-linux-gnu-gcc -static -O2 -Wall -Wextra -std=gnu11 -I. -isystem $$kdir/usr/include \
		tests/vm/heap_test.c cgroup/dmem.c -o $(ARM64)/heap_test && \
	aarch64-linux-gnu-gcc -static -O2 -Wall -Wextra -std=gnu11 -isystem $$kdir/usr/include \
		tests/dt/cma_areas.c -o $(ARM64)/cma_areas && \
	aarch64-linux-gnu-gcc -static -O2 -Wall -Wextra -I. tests/dt/init.c cgroup/dmem.c -o $(ARM64)/init

# the reference kernel (cached in ~/.cache/heapstat; KVER=6.12 or KSRC=DIR for others)
kernel: deps
	$(Q)scripts/kernel-build.sh >/dev/null

vmlinux.h:
	$(Q)scripts/gen-vmlinux-h.sh

check: all arm64
	$(Q)scripts/check.sh

bench: all
	$(Q)scripts/bench.sh

demo: all
	$(Q)scripts/demo.sh

install: $(BUILD)/heapstat
	install -D -m 0755 $(BUILD)/heapstat $(DESTDIR)$(prefix)/sbin/heapstat
	ln -sf heapstat $(DESTDIR)$(prefix)/sbin/heaptop

clean:
	rm -rf $(BUILD)

# also drops the cached kernels
distclean: clean
	rm -rf $${HEAPSTAT_CACHE:-$$HOME/.cache/heapstat}

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
