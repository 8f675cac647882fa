# tests/guests/sandbox/sandbox.mk - the sandbox tests' guest (included by
# tests/guests/Makefile; built with the PVH runtime of lib/).
all: $(OUT)/sandbox.pvh
sandbox_objs := sandbox/sandbox.o
GUESTS += $(OUT)/sandbox.pvh
