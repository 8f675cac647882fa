# ember - plain GNU make.  `make run` boots the default guest, `make test`
# runs every test, `make bench` the benchmarks.  SAN=1 builds with ASan+UBSan
# into build-san/.
SAN ?= 0
ifeq ($(SAN),1)
O ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
O ?= build
SANFLAGS :=
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

.PHONY: all check test unit integration guests bench run install clean deps
all: $(EMBER) $(LIBEMBER)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBEMBER): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(EMBER): $(O)/monitor/main.o $(LIBEMBER)
	$(CC) $(SANFLAGS) -o $@ $^ $(LIBS)

$(UNIT): $(UNIT_OBJS) $(LIBEMBER)
	$(CC) $(SANFLAGS) -o $@ $^ -lcriterion $(LIBS)

guests:
	$(MAKE) -C tests/guests OUT=$(GUESTS_OUT)

# Unit tests need no KVM; integration tests boot the test guests.
unit: $(UNIT)
	$(UNIT) --jobs 2

integration: $(EMBER) guests
	EMBER=$(abspath $(EMBER)) GUESTS=$(GUESTS_OUT) tests/integration/run.sh

check test: unit integration

bench: $(EMBER) guests
	EMBER=$(abspath $(EMBER)) GUESTS=$(GUESTS_OUT) tests/perf/run.sh

run: $(EMBER) guests
	$(EMBER) run --kernel $(GUESTS_OUT)/demo.pvh --boot-time

PREFIX ?= /usr/local
install: $(EMBER)
	install -D -m 0755 $(EMBER) $(DESTDIR)$(PREFIX)/bin/ember

clean:
	rm -rf build build-san
	$(MAKE) -C tests/guests clean OUT=$(GUESTS_OUT)

-include $(LIB_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(O)/monitor/main.d
