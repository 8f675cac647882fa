/* The floor for start-up time: a raw KVM program that creates a VM with one
 * page of RAM and one vCPU, runs two real-mode instructions (out to 0xf4)
 * and exits.  No irqchip, no devices.  `make bench` compares ember to it.
 * `rawkvm split` turns on KVM's split irqchip first (as ember does by
 * default), so the vCPU has its LAPIC in the kernel: KVM then does not
 * patch its "vCPU without an in-kernel LAPIC" static key in at vCPU
 * creation and out at VM destruction, which costs the plain floor more
 * than the rest of its KVM work in the L1 lane (code patching under TCG). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

int main(int argc, char **argv)
{
	static const unsigned char code[] = { 0x31, 0xc0, 0xe6, 0xf4, 0xf4 };
	struct kvm_userspace_memory_region r = { 0 };
	struct kvm_sregs s;
	struct kvm_regs regs;
	struct kvm_run *run;
	int kvm, vm, cpu;
	void *mem;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	mem = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (kvm < 0 || vm < 0 || mem == MAP_FAILED)
		return 2;
	memcpy(mem, code, sizeof(code));
	r.memory_size = 0x1000;
	r.guest_phys_addr = 0x1000;
	r.userspace_addr = (unsigned long)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return 2;
	if (argc > 1 && !strcmp(argv[1], "split")) {
		struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { 24 } };

		if (ioctl(vm, KVM_ENABLE_CAP, &cap) < 0)
			return 2;
	}
	cpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	run = mmap(NULL, (size_t)ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0),
		   PROT_READ | PROT_WRITE, MAP_SHARED, cpu, 0);
	if (cpu < 0 || run == MAP_FAILED)
		return 2;
	ioctl(cpu, KVM_GET_SREGS, &s);
	s.cs.base = 0;
	s.cs.selector = 0;
	ioctl(cpu, KVM_SET_SREGS, &s);
	memset(&regs, 0, sizeof(regs));
	regs.rip = 0x1000;
	regs.rflags = 2;
	ioctl(cpu, KVM_SET_REGS, &regs);
	if (ioctl(cpu, KVM_RUN, 0) < 0 || run->exit_reason != KVM_EXIT_IO)
		return 2;
	return run->io.port == 0xf4 ? 1 : 2;
}
