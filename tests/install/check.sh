#!/usr/bin/env bash
# tests/install/check.sh - `make install` as a Debian user expects it
# (`make check-install`, part of `make test`; no KVM needed):
#   - `make install DESTDIR=$tmp PREFIX=/usr` puts exactly the expected
#     files there, with their modes;
#   - the man page renders without a warning (groff -ww, man --warnings);
#   - pkg-config finds ember.pc (its prefix, version, flags), and a small C
#     program built with `pkg-config --cflags --libs --static ember`
#     against the installed header and library runs: it checks the API
#     version and an error of ember_vm_create that needs no KVM;
#   - `make uninstall` with the same DESTDIR leaves no file behind.
# Fails with a line naming what is wrong.
set -euo pipefail
cd "$(dirname "$0")/../.."
MAKE=${MAKE:-make}
CC=${CC:-cc}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
fail() { echo "check-install: FAIL: $*" >&2; exit 1; }

# The plain build is what gets installed (SAN=0 wins over a SAN=1 in MAKEFLAGS).
$MAKE -s --no-print-directory SAN=0 install DESTDIR="$root" PREFIX=/usr >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log" >&2; fail "make install DESTDIR=... PREFIX=/usr failed"; }

# ---- the files and their modes -------------------------------------------
want='./usr/bin/ember 755
./usr/include/ember/ember.h 644
./usr/lib/libember.a 644
./usr/lib/pkgconfig/ember.pc 644
./usr/share/man/man1/ember.1 644'
got=$(cd "$root" && find . \( -type f -o -type l \) -printf '%p %m\n' | LC_ALL=C sort)
[ "$got" = "$want" ] || fail "installed files differ:"$'\n'"$(diff <(echo "$want") <(echo "$got") || true)"
"$root/usr/bin/ember" version | grep -qx 'ember [0-9.]*' || fail "the installed ember does not say its version"
cmp -s include/ember/ember.h "$root/usr/include/ember/ember.h" || fail "installed ember.h differs from include/ember/ember.h"

# ---- the man page --------------------------------------------------------
groff -ww -z -man "$root/usr/share/man/man1/ember.1" 2>"$tmp/groff.err" || fail "groff failed on ember.1"
[ ! -s "$tmp/groff.err" ] || fail "groff -ww warns on ember.1:"$'\n'"$(cat "$tmp/groff.err")"
if command -v man >/dev/null; then
	LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$root/usr/share/man/man1/ember.1" \
		>"$tmp/man.txt" 2>"$tmp/man.err" || fail "man -l ember.1 failed: $(cat "$tmp/man.err")"
	[ ! -s "$tmp/man.err" ] || fail "man --warnings warns on ember.1:"$'\n'"$(cat "$tmp/man.err")"
	for sec in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS 'EXIT STATUS' ENVIRONMENT FILES EXAMPLES; do
		grep -qx "$sec" "$tmp/man.txt" || fail "ember.1 has no $sec section"
	done
	# every command of `ember help` has its entry
	for cmd in run restore fork fuzz jail help version; do
		grep -Eq "^       $cmd( |\$)" "$tmp/man.txt" || fail "ember.1 does not describe '$cmd'"
	done
fi

# ---- pkg-config and a program against the installed library --------------
# pc: as the installed system would see it; pc_root: its files under $root
pc() { PKG_CONFIG_PATH="$root/usr/lib/pkgconfig" "$PKG_CONFIG" "$@"; }
pc_root() { PKG_CONFIG_SYSROOT_DIR="$root" pc "$@"; }
for v in prefix=/usr libdir=/usr/lib includedir=/usr/include; do
	[ "$(pc --variable="${v%%=*}" ember)" = "${v#*=}" ] ||
		fail "ember.pc: ${v%%=*} is '$(pc --variable="${v%%=*}" ember)', not ${v#*=}"
done
ver=$("$root/usr/bin/ember" version | cut -d' ' -f2)
[ "$(pc --modversion ember)" = "$ver" ] || fail "ember.pc: version '$(pc --modversion ember)', ember says '$ver'"
flags=$(pc_root --cflags --libs --static ember) || fail "pkg-config --static ember failed"
for f in "-I$root/usr/include" "-L$root/usr/lib" -lember -luring -lseccomp -lcap -ljansson -lpthread; do
	[[ " $flags " == *" $f "* ]] || fail "pkg-config --cflags --libs --static ember: no $f in '$flags'"
done
[[ " $(pc --libs ember) " != *" -luring "* ]] || fail "ember.pc: liburing is public, not private"

cat >"$tmp/prog.c" <<'PROG'
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <ember/ember.h>

int main(void)
{
	const char *const opts[] = { "--kernel", "vmlinux", "--cpus", "0", NULL };
	const char *want = "--cpus: '0' is not a number from 1 to 64";
	struct ember_vm *vm = (struct ember_vm *)1;
	char err[256] = "";
	int r;

	if (ember_api_version() != EMBER_API_VERSION) {
		printf("api version %d, header %d\n", ember_api_version(), EMBER_API_VERSION);
		return 1;
	}
	r = ember_vm_create(opts, &vm, err, sizeof(err));
	if (r != -EINVAL || vm || strcmp(err, want)) {
		printf("ember_vm_create: %d, vm %p, '%s'; want %d, NULL, '%s'\n", r, (void *)vm,
		       err, -EINVAL, want);
		return 1;
	}
	printf("libember %d ok\n", ember_api_version());
	return 0;
}
PROG
# shellcheck disable=SC2086  # flags are words
$CC -std=c11 -Wall -Wextra -Werror -o "$tmp/prog" "$tmp/prog.c" $flags 2>"$tmp/cc.err" ||
	fail "a program against the installed libember does not build ($CC ... $flags):"$'\n'"$(cat "$tmp/cc.err")"
out=$("$tmp/prog") || fail "the program against libember failed: $out"
[ "$out" = "libember 1 ok" ] || fail "the program against libember printed '$out'"

# ---- uninstall -----------------------------------------------------------
$MAKE -s --no-print-directory SAN=0 uninstall DESTDIR="$root" PREFIX=/usr >"$tmp/uninstall.log" 2>&1 ||
	{ cat "$tmp/uninstall.log" >&2; fail "make uninstall failed"; }
left=$(cd "$root" && find . \( -type f -o -type l \) | LC_ALL=C sort)
[ -z "$left" ] || fail "make uninstall left:"$'\n'"$left"
[ ! -e "$root/usr/include/ember" ] || fail "make uninstall left include/ember/"

echo "check-install: ok (install, man page, pkg-config, a program against libember, uninstall)"
