# tests/guests/virtio/virtio.mk - the virtio guests (included by
# tests/guests/Makefile; see README.md there).  The 32-bit PVH guests use
# the runtime of lib/ and the driver in vio.c; vbench.elf64 is a 64-bit ELF
# (Linux 64-bit boot protocol) whose I/O loop runs in ring 3 (user64.c).
VIRTIO_PVH := vblk vrng vnet vhostile vflood vreset
VIRTIO_GUESTS := $(VIRTIO_PVH:%=$(OUT)/%.pvh) $(OUT)/vbench.elf64
all: $(VIRTIO_GUESTS)
GUESTS += $(VIRTIO_GUESTS)

vblk_objs := virtio/vblk.o virtio/vio.o
vrng_objs := virtio/vrng.o virtio/vio.o virtio/virq.o virtio/virq_entry.o
vnet_objs := virtio/vnet.o virtio/vio.o virtio/pkt.o
vhostile_objs := virtio/vhostile.o virtio/vio.o virtio/virq.o virtio/virq_entry.o
vflood_objs := virtio/vflood.o virtio/vio.o
vreset_objs := virtio/vreset.o virtio/vio.o
vbench_objs := virtio/vbench.o virtio/vio.o virtio/pkt.o virtio/user64.o \
	virtio/user64_entry.o

# the shared rules know lib/*.h only
$(addprefix $(OBJ)/32/,$(sort $(foreach g,$(VIRTIO_PVH),$($(g)_objs)))) \
$(addprefix $(OBJ)/64/,$(vbench_objs)): $(wildcard virtio/*.h)

# (RT64 is set after this file is included: its objects are named here)
$(OUT)/vbench.elf64: $(OBJ)/64/lib/start64.o $(addprefix $(OBJ)/64/,$(vbench_objs)) \
		$(addprefix $(OBJ)/64/lib/,rt.o gdt.o bootparams.o) lib/elf64.ld
	$(LD) -m elf_x86_64 $(LDFLAGS) -T lib/elf64.ld -o $@ $(filter %.o,$^)
