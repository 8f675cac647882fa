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
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
HARDEN := -fstack-protector-strong -D_FORTIFY_SOURCE=2
ALL_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(CFLAGS) $(SANFLAGS) -I. -Iinclude -MMD -MP
LIBS := -luring -lseccomp -lcap -lpthread

# Every .c in these folders goes into libember; monitor/main.c is the CLI.
LIB_DIRS := monitor monitor/boot vcpu devices virtio snapshot seccomp
LIB_SRCS := $(filter-out monitor/main.c,$(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c)))
LIB_OBJS := $(LIB_SRCS:%.c=$(O)/%.o)
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(O)/%.o)

EMBER := $(O)/ember
LIBEMBER := $(O)/libember.a
UNIT := $(O)/unit-tests
GUESTS_OUT := $(abspath $(O))/guests

.PHONY: all check test unit integration guests bench run install clean deps \
	guest-kernel initramfs
all: $(EMBER) $(LIBEMBER)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBEMBER): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(EMBER): $(O)/monitor/main.o $(LIBEMBER)
	$(CC) $(SANFLAGS) $(STATIC) -o $@ $^ $(LIBS)

# ember-test: ember with the test-only hooks (-DEMBER_TEST_HOOKS: control-
# port command 0x7f, the sandbox self-test of tests/integration/t_sandbox.sh).
# Its own objects; never installed.
TEST_O := $(O)/test-hooks
TEST_OBJS := $(TEST_O)/monitor/main.o $(LIB_OBJS:$(O)/%=$(TEST_O)/%)
$(TEST_O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DEMBER_TEST_HOOKS -c -o $@ $<

$(O)/ember-test: $(TEST_OBJS)
	$(CC) $(SANFLAGS) $(STATIC) -o $@ $^ $(LIBS)

$(UNIT): $(UNIT_OBJS) $(LIBEMBER)
	$(CC) $(SANFLAGS) -o $@ $^ -lcriterion $(LIBS)

guests:
	$(MAKE) -C tests/guests OUT=$(GUESTS_OUT)

# Unit tests need no KVM; integration tests boot the test guests.
unit: $(UNIT)
	$(UNIT) --jobs 2

integration: $(EMBER) $(O)/ember-test guests
	EMBER=$(abspath $(EMBER)) EMBER_TEST=$(abspath $(O)/ember-test) GUESTS=$(GUESTS_OUT) \
		tests/integration/run.sh

check test: unit integration

bench: $(EMBER) guests
	EMBER=$(abspath $(EMBER)) GUESTS=$(GUESTS_OUT) tests/perf/run.sh

# The default Linux guest (guest-kernel-config/): the kernel (minutes the
# first time, cached outside the tree after) and the initramfs with
# ember-init, linked as what `ember run --kernel default` boots.
guest-kernel:
	guest-kernel-config/default.sh

initramfs:
	guest-kernel-config/initramfs.sh

# Boots the Linux guest to a shell, building what is missing; where KVM
# cannot run Linux (kvm_pvm, no vmx/svm) it says why and boots demo.pvh.
run: $(EMBER) guests
	guest-kernel-config/run.sh $(abspath $(EMBER)) $(GUESTS_OUT)

PREFIX ?= /usr/local
install: $(EMBER)
	install -D -m 0755 $(EMBER) $(DESTDIR)$(PREFIX)/bin/ember

clean:
	rm -rf build build-san
	$(MAKE) -C tests/guests clean OUT=$(GUESTS_OUT)

-include $(LIB_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(O)/monitor/main.d $(TEST_OBJS:.o=.d)
