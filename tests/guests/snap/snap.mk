# tests/guests/snap/snap.mk - the snapshot tests' guests (included by
# tests/guests/Makefile; built with the PVH runtime of lib/):
#   snapcount.pvh  counts and prints; snapshot point, memory touched before
#                  and written after it, all from the command line
#   snapsmp.pvh    every CPU counts under a lock; the BSP asks for the
#                  snapshot
#   snapfuzz.pvh   the fuzzing target of the reset-loop tests and benchmarks
#   snapblk.pvh    a snapshot with virtio-blk writes in flight
#   snapfuzzblk.pvh  virtio-blk under the reset loop (each run must see the
#                  snapshot's disk) and in diff snapshots (device writes)
SNAP_GUESTS := $(OUT)/snapcount.pvh $(OUT)/snapsmp.pvh $(OUT)/snapfuzz.pvh \
	$(OUT)/snapblk.pvh $(OUT)/snapfuzzblk.pvh
all: $(SNAP_GUESTS)
GUESTS += $(SNAP_GUESTS)
snapcount_objs := snap/count.o
snapsmp_objs := snap/smpcount.o smp_tramp.o
snapfuzz_objs := snap/fuzz.o
snapblk_objs := snap/blk.o virtio/vio.o
snapfuzzblk_objs := snap/fuzzblk.o virtio/vio.o
$(OBJ)/32/snap/blk.o $(OBJ)/32/snap/fuzzblk.o: $(wildcard virtio/*.h) snap/snap.h
