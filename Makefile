# ember - plain GNU make.  `make run` boots the default guest, `make test`
# runs every test, `make bench` the benchmarks.  SAN=1 builds with ASan+UBSan
# into build-san/.
SAN ?= 0
ifeq ($(SAN),1)
O ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
STATIC :=
else
O ?= build
SANFLAGS :=
# ember is linked statically: no dynamic loading at start-up (about 0.5 ms
# less to the first guest instruction) and about 1 MiB less RSS.
STATIC := -static
endif

CC ?= cc
CFLAGS ?= -O2 -g
# CPPFLAGS, CFLAGS and LDFLAGS come from the environment or the command
# line (e.g. dpkg-buildflags); ember's own flags are added to them.
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
HARDEN := -fstack-protector-strong -D_FORTIFY_SOURCE=2

# The libraries' flags from pkg-config; with --static (the ember binary is
# linked statically) their private libraries too.
PKG_CONFIG ?= pkg-config
# jansson: the JSON of the API and of --config-file (api/)
DEP_PKGS := liburing libseccomp libcap jansson
DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(DEP_PKGS) 2>/dev/null)
DEP_LIBS := $(shell $(PKG_CONFIG) --libs $(if $(STATIC),--static) $(DEP_PKGS) 2>/dev/null)
ifeq ($(DEP_LIBS),)
ifneq ($(filter-out clean uninstall,$(or $(MAKECMDGOALS),all)),)
$(error $(PKG_CONFIG) has no flags for $(DEP_PKGS): install pkg-config, liburing-dev, libseccomp-dev, libcap-dev and libjansson-dev)
endif
endif
ALL_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(CPPFLAGS) $(DEP_CFLAGS) $(CFLAGS) \
	$(SANFLAGS) -I. -Iinclude -MMD -MP
LIBS := $(DEP_LIBS) -lpthread
# Device code (devices/, virtio/) sees its VM only through struct dev_host
# (devices/host.h): built with EMBER_DEVICE_CODE, monitor/monitor.h gives
# it no struct vm to reach into.  Used in every compile rule ($< is the
# source).
DEVICE_CODE = $(if $(filter devices/% virtio/%,$<),-DEMBER_DEVICE_CODE)

# Every .c in these folders goes into libember; monitor/main.c is the CLI.
LIB_DIRS := monitor monitor/boot vcpu devices virtio virtio/vsock snapshot seccomp jail api
LIB_SRCS := $(filter-out monitor/main.c,$(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c)))
LIB_OBJS := $(LIB_SRCS:%.c=$(O)/%.o)
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(O)/%.o)

EMBER := $(O)/ember
LIBEMBER := $(O)/libember.a
UNIT := $(O)/unit-tests
GUESTS_OUT := $(abspath $(O))/guests

.PHONY: all check test unit check-install integration guests bench run install \
	uninstall clean deps guest-kernel initramfs
all: $(EMBER) $(LIBEMBER)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEVICE_CODE) -c -o $@ $<

$(LIBEMBER): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(EMBER): $(O)/monitor/main.o $(LIBEMBER)
	$(CC) $(SANFLAGS) $(STATIC) $(LDFLAGS) -o $@ $^ $(LIBS)

# ember-test: ember with the test-only hooks (-DEMBER_TEST_HOOKS: control-
# port command 0x7f, the sandbox self-test of tests/integration/t_sandbox.sh).
# Its own objects; never installed.
TEST_O := $(O)/test-hooks
TEST_OBJS := $(TEST_O)/monitor/main.o $(LIB_OBJS:$(O)/%=$(TEST_O)/%)
$(TEST_O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEVICE_CODE) -DEMBER_TEST_HOOKS -c -o $@ $<

$(O)/ember-test: $(TEST_OBJS)
	$(CC) $(SANFLAGS) $(STATIC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(UNIT): $(UNIT_OBJS) $(LIBEMBER)
	$(CC) $(SANFLAGS) $(LDFLAGS) -o $@ $^ -lcriterion $(LIBS)

guests:
	$(MAKE) -C tests/guests OUT=$(GUESTS_OUT)

# ptyrun: runs a command on a new pseudo-terminal (the terminal test).
$(O)/ptyrun: tests/integration/ptyrun.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< -lutil

# Unit tests need no KVM and run here.  Integration tests boot guests on
# hardware-style KVM: this host's when it is VT-x/AMD-V backed, else inside
# the L1 lane (tests/l1/: Debian's kernel with kvm_amd under QEMU TCG).
# Everything is built here first, the default Linux guest included (its
# first build takes minutes; it is cached outside the tree).
# EMBER_TEST_KVM=direct|l1 forces one; PATTERN=glob runs some cases.
unit: $(UNIT)
	$(UNIT) --jobs 2

integration: $(EMBER) $(O)/ember-test $(O)/ptyrun guests guest-kernel
	EMBER=$(abspath $(EMBER)) EMBER_TEST=$(abspath $(O)/ember-test) GUESTS=$(GUESTS_OUT) \
		PTYRUN=$(abspath $(O)/ptyrun) tests/l1/kvm.sh --what "integration tests" \
		--timeout $(L1_TIMEOUT) -- tests/integration/run.sh $(PATTERN)
L1_TIMEOUT ?= 2400

# `make install` into a scratch DESTDIR, then the man page, pkg-config and
# a program built against the installed libember; no KVM needed.  Always
# the plain build (a sanitizer build is not what gets installed).
check-install:$(if $(filter 0,$(SAN)), $(EMBER) $(LIBEMBER))
	MAKE="$(MAKE)" tests/install/check.sh

check test: unit check-install integration

bench: $(EMBER) guests guest-kernel
	EMBER=$(abspath $(EMBER)) GUESTS=$(GUESTS_OUT) tests/l1/kvm.sh --what "make bench" \
		--timeout 3600 -- tests/perf/run.sh

# The default Linux guest (guest-kernel-config/): the kernel (minutes the
# first time, cached outside the tree after) and the initramfs with
# ember-init, linked as what `ember run --kernel default` boots.
guest-kernel:
	guest-kernel-config/default.sh

initramfs:
	guest-kernel-config/initramfs.sh

# Boots the Linux guest to a shell, building what is missing: on this
# host's KVM when it is hardware-backed, else (saying so in one line) under
# ember inside the L1 lane.
run: $(EMBER) guest-kernel
	guest-kernel-config/run.sh $(abspath $(EMBER))

# `make install [PREFIX=/usr/local] [DESTDIR=]`: the ember binary,
# libember.a, its header, ember.pc for pkg-config and the man page;
# `make uninstall` removes exactly those (and include/ember/ if empty).
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
MANDIR ?= $(PREFIX)/share/man
VERSION := $(shell sed -n 's/^\#define EMBER_VERSION "\(.*\)"$$/\1/p' monitor/main.c)
INSTALLED := $(BINDIR)/ember $(LIBDIR)/libember.a $(INCLUDEDIR)/ember/ember.h \
	$(PKGCONFIGDIR)/ember.pc $(MANDIR)/man1/ember.1
# ember.pc's directories relative to ${prefix} where they lie under it
pc_dir = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))

install: $(EMBER) $(LIBEMBER)
	install -D -m 0755 $(EMBER) $(DESTDIR)$(BINDIR)/ember
	install -D -m 0644 $(LIBEMBER) $(DESTDIR)$(LIBDIR)/libember.a
	install -D -m 0644 include/ember/ember.h $(DESTDIR)$(INCLUDEDIR)/ember/ember.h
	install -D -m 0644 dist/ember.1 $(DESTDIR)$(MANDIR)/man1/ember.1
	install -d -m 0755 $(DESTDIR)$(PKGCONFIGDIR)
	sed -e '/^#/d' -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(call pc_dir,$(LIBDIR))|' \
		-e 's|@INCLUDEDIR@|$(call pc_dir,$(INCLUDEDIR))|' -e 's|@VERSION@|$(VERSION)|' \
		-e 's|@REQUIRES@|$(DEP_PKGS)|' dist/ember.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/ember.pc
	chmod 0644 $(DESTDIR)$(PKGCONFIGDIR)/ember.pc

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	[ ! -d $(DESTDIR)$(INCLUDEDIR)/ember ] || rmdir --ignore-fail-on-non-empty $(DESTDIR)$(INCLUDEDIR)/ember

clean:
	rm -rf build build-san
	$(MAKE) -C tests/guests clean OUT=$(GUESTS_OUT)

# `make fuzz` (FUZZ_S=seconds per target): the libFuzzer targets.
include tests/fuzz/fuzz.mk

-include $(LIB_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(O)/monitor/main.d $(TEST_OBJS:.o=.d)
