/* monitor/main.c - the `ember` command line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/monitor.h"

#define EMBER_VERSION "0.1.0"

static void usage(FILE *f)
{
	fputs("usage: ember run --kernel FILE [options]   boot a kernel\n"
	      "       ember run --raw FILE[@ADDR] [options] start a raw binary in real mode\n"
	      "       ember version | help\n"
	      "\n"
	      "run options:\n"
	      "  --kernel FILE        PVH ELF, ELF64 vmlinux, bzImage or Multiboot kernel\n"
	      "  --initrd FILE        initial ramdisk (module for PVH/Multiboot)\n"
	      "  --cmdline TEXT       kernel command line\n"
	      "  --cpus N             vCPUs (1-64, default 1)\n"
	      "  --mem SIZE           guest RAM (default 256M)\n"
	      "  --console stdio|file:PATH|none   where the serial console goes\n"
	      "  --raw FILE[@ADDR]    load FILE at ADDR (default 0x7c00), start in real mode\n"
	      "  --irqchip split|full KVM interrupt controllers (default split)\n"
	      "  --pit                in-kernel PIT (implies --irqchip full)\n"
	      "  --drive path=IMG[,ro=on][,id=NAME][,direct=on]   virtio-blk disk\n"
	      "  --net tap=NAME[,mac=XX:XX:XX:XX:XX:XX]          virtio-net on a TAP\n"
	      "  --rng                virtio-rng\n"
	      "  --boot-time          print the time of each start-up step on stderr\n"
	      "\n"
	      "exit status: the guest's (port 0xf4: value*2+1; control port: as given),\n"
	      "0 on power-off or reset, 2 bad input, 70 host failure, 71 triple fault,\n"
	      "72 KVM internal/emulation error, 73 unhandled exit.\n", f);
}

static int cmd_run(int argc, char **argv, uint64_t start_ns)
{
	struct vm_config cfg;
	struct errbuf err = { "" };
	struct vm *vm = NULL;
	int r, status;
	uint64_t t;

	r = config_parse_run(argc, argv, &cfg, &err);
	if (r) {
		fprintf(stderr, "ember: %s\n", err.msg);
		config_free(&cfg);
		return EXIT_BADINPUT;
	}
	cfg.start_ns = start_ns;
	r = vm_create(&cfg, &vm, &err, &status);
	if (r) {
		fprintf(stderr, "ember: %s\n", err.msg);
		vm_destroy(vm);
		config_free(&cfg);
		return status;
	}
	status = vm_run(vm);
	if (cfg.boot_time)
		vm_print_boot_times(vm);
	t = now_ns();
	vm_destroy(vm);
	if (cfg.boot_time)
		fprintf(stderr, "  %-16s %9.3f  +%.3f\n", "teardown", (double)(now_ns() - start_ns) / 1e6,
			(double)(now_ns() - t) / 1e6);
	config_free(&cfg);
	return status;
}

int main(int argc, char **argv)
{
	uint64_t start = now_ns();

	log_init();
	if (argc < 2) {
		usage(stderr);
		return EXIT_BADINPUT;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1, start);
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("ember %s\n", EMBER_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "ember: unknown command '%s' (see 'ember help')\n", argv[1]);
	return EXIT_BADINPUT;
}
