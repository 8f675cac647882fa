# tests/fuzz/fuzz.mk - `make fuzz`: the libFuzzer targets of tests/fuzz/,
# built with Debian's clang (ASan + UBSan + -fsanitize=fuzzer) from ember's
# own sources into $(O)/fuzz/, then run one after the other for FUZZ_S
# seconds each on a copy of their seed corpus (tests/fuzz/run.sh).
# Included by the Makefile; not part of `make test`.
#
# -DEMBER_FUZZ_NO_CRC: the snapshot parser skips its CRC32 checks so that
# mutated state files reach the section decoders; only these objects get
# it (snapshot/format.c refuses it without FUZZING_BUILD_MODE_...).
FUZZ_CC ?= clang
FUZZ_S ?= 600
FUZZ_O := $(O)/fuzz
FUZZ_TARGETS := fuzz_snapshot fuzz_boot fuzz_virtio fuzz_cli fuzz_api
FUZZ_FLAGS := -std=gnu11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-DEMBER_FUZZ_NO_CRC -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
	$(WARN) -Wno-unused-command-line-argument -Wno-gnu-variable-sized-type-not-at-end -I. -Iinclude \
	$(DEP_CFLAGS) -MMD -MP
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_O)/obj/%.o) $(FUZZ_O)/obj/tests/fuzz/fuzz_util.o
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_O)/%)
.SECONDARY: $(FUZZ_TARGETS:%=$(FUZZ_O)/obj/tests/fuzz/%.o) $(FUZZ_O)/obj/tests/fuzz/seeds.o

.PHONY: fuzz fuzz-build fuzz-seeds fuzz-cc
fuzz: fuzz-build
	FUZZ_S=$(FUZZ_S) FUZZ_OUT=$(abspath $(FUZZ_O)) tests/fuzz/run.sh $(FUZZ_TARGETS)

fuzz-build: fuzz-cc $(FUZZ_BINS)

# Debian's clang brings libFuzzer (-fsanitize=fuzzer).  Installed here when
# missing and we are root on Debian, else named.
fuzz-cc:
	@command -v $(FUZZ_CC) >/dev/null || tests/fuzz/need-clang.sh $(FUZZ_CC)

$(FUZZ_O)/obj/%.o: %.c | fuzz-cc
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(DEVICE_CODE) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_O)/libember-fuzz.a: $(FUZZ_LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_O)/fuzz_%: $(FUZZ_O)/obj/tests/fuzz/fuzz_%.o $(FUZZ_O)/libember-fuzz.a
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIBS)

# fuzz_api drives the API over the unit tests' fake backend
$(FUZZ_O)/fuzz_api: $(FUZZ_O)/obj/tests/unit/api_fake.o

# Regenerates the seed corpora (tests/fuzz/corpus/) with ember's own
# encoders; the result is checked in.
$(FUZZ_O)/seeds: $(FUZZ_O)/obj/tests/fuzz/seeds.o $(FUZZ_O)/libember-fuzz.a
	$(FUZZ_CC) -fsanitize=fuzzer-no-link,address,undefined -o $@ $^ $(LIBS)

fuzz-seeds: fuzz-cc $(FUZZ_O)/seeds
	$(FUZZ_O)/seeds tests/fuzz/corpus

-include $(FUZZ_LIB_OBJS:.o=.d) $(FUZZ_TARGETS:%=$(FUZZ_O)/obj/tests/fuzz/%.d) \
	$(FUZZ_O)/obj/tests/unit/api_fake.d
