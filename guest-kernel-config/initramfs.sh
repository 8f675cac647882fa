#!/bin/bash
# Build the initramfs of ember's default Linux guest: Debian's busybox-static
# (/bin/busybox and a symlink per applet) plus ember-init (init/) as /init
# and vsock-tool (init/vsock-tool.c) as /bin/vsock-tool,
# packed with cpio (newc) and gzip, into a cache outside the tree.
#
# usage: guest-kernel-config/initramfs.sh [--print-path]
#
#   Prints the path of initramfs.cpio.gz on stdout (and nothing else there;
#   progress goes to stderr). A cached build returns at once. --print-path
#   prints the path without building. A build also points
#   <cache>/default/initramfs.cpio.gz at the result (what `ember run
#   --kernel default` uses; see default.sh).
#
# Cache: ${EMBER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ember}/initramfs-<key>,
# <key> = first 16 hex digits of sha256(ember-init's sources + this script +
# the versions of busybox-static, gcc and libc6-dev). Holds
# initramfs.cpio.gz and the ember-init binary.
#
# Needs (Debian packages): busybox-static gcc libc6-dev cpio gzip.

set -euo pipefail

die() { echo "ember: initramfs: $*" >&2; exit 1; }
say() { echo "ember: initramfs: $*" >&2; }

print_only=0
case "${1-}" in
    "") ;;
    --print-path) print_only=1 ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (usage: initramfs.sh [--print-path])" ;;
esac
[ $# -le 1 ] || die "too many arguments (usage: initramfs.sh [--print-path])"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
self=$here/$(basename "${BASH_SOURCE[0]}")
srcs=("$here/init/ember-init.c" "$here/init/args.c" "$here/init/args.h"
      "$here/init/vsock-tool.c")
BUSYBOX=/bin/busybox

pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }
bbver=$(pkgver busybox-static)
[ -n "$bbver" ] && [ -x "$BUSYBOX" ] ||
    die "busybox-static is not installed (apt-get install busybox-static)"
for t in gcc:gcc cpio:cpio gzip:gzip sha256sum:coreutils flock:util-linux; do
    command -v "${t%%:*}" >/dev/null 2>&1 || die "missing '${t%%:*}' (apt-get install ${t#*:})"
done

key=$( { cat "${srcs[@]}" "$self"
         printf 'busybox-static=%s\ngcc=%s\nlibc6-dev=%s\n' "$bbver" \
             "$(gcc -dumpfullversion 2>/dev/null)" "$(pkgver libc6-dev)"; } |
       sha256sum | cut -c1-16)
cache=${EMBER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ember}
dir=$cache/initramfs-$key
out=$dir/initramfs.cpio.gz

# Points <cache>/default/initramfs.cpio.gz at $out (atomically).
link_default() {
    mkdir -p "$cache/default" &&
    ln -sfn "$out" "$cache/default/.initramfs.cpio.gz.new" &&
    mv -T "$cache/default/.initramfs.cpio.gz.new" "$cache/default/initramfs.cpio.gz" ||
        die "cannot link '$cache/default/initramfs.cpio.gz'"
}

if [ "$print_only" = 1 ]; then
    echo "$out"
    exit 0
fi
if [ -s "$out" ]; then
    link_default
    echo "$out"
    exit 0
fi

mkdir -p "$cache" || die "cannot create cache directory '$cache'"
exec 9>"$cache/initramfs-$key.lock" || die "cannot open lock '$cache/initramfs-$key.lock'"
flock 9 || die "cannot lock '$cache/initramfs-$key.lock'"
if [ -s "$out" ]; then
    link_default
    echo "$out"
    exit 0
fi

tmp=$(mktemp -d "$cache/.initramfs-$key.tmp.XXXXXX") ||
    die "cannot create a build directory under '$cache'"
trap 'rm -rf "$tmp"' EXIT
say "building into $dir"

# ember-init: static, small, no SSE games needed (it runs in ring 3)
gcc -static -Os -s -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror \
    -o "$tmp/ember-init" "$here/init/ember-init.c" "$here/init/args.c" ||
    die "cannot compile ember-init"
# vsock-tool: the guest end of ember's virtio-vsock tests (see its source)
gcc -static -Os -s -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror \
    -o "$tmp/vsock-tool" "$here/init/vsock-tool.c" ||
    die "cannot compile vsock-tool"

root=$tmp/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,mnt,tmp,root,newroot}
chmod 1777 "$root/tmp"
chmod 0700 "$root/root"
install -m 0755 "$tmp/ember-init" "$root/init"
install -m 0755 "$tmp/vsock-tool" "$root/bin/vsock-tool"
install -m 0755 "$BUSYBOX" "$root/bin/busybox"
# one symlink per applet, at the path busybox names for it
while IFS= read -r applet; do
    case $applet in ""|bin/busybox) continue ;; esac
    [ -e "$root/$applet" ] || [ -L "$root/$applet" ] && continue
    mkdir -p "$root/$(dirname "$applet")"
    ln -s /bin/busybox "$root/$applet"
done < <("$BUSYBOX" --list-full)
[ -L "$root/bin/sh" ] || die "busybox has no 'sh' applet"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
printf '127.0.0.1 localhost\n' >"$root/etc/hosts"

# newc header: magic, then ino mode uid gid nlink mtime filesize devmajor
# devminor rdevmajor rdevminor namesize check, 8 hex digits each; the name
# and its NUL padded to 4 bytes (the header is 110 bytes).
newc() {   # newc INO MODE NLINK RDEVMAJ RDEVMIN NAME
    local name=$6 namesize=$(( ${#6} + 1 ))
    printf '070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x' \
        "$1" "$2" 0 0 "$3" 0 0 0 0 "$4" "$5" "$namesize" 0
    printf '%s\0' "$name"
    local pad=$(( (4 - (110 + namesize) % 4) % 4 ))
    [ $pad -eq 0 ] || head -c "$pad" /dev/zero
}

# Archive 1 (hand-made: creating a device node needs no root this way):
# /dev and /dev/console, so the kernel gives /init a console from the start.
# Archive 2: everything else, with cpio. Linux unpacks concatenated archives
# (Documentation/driver-api/early-userspace/buffer-format.rst).
{
    newc 1 $((0040755)) 2 0 0 dev
    newc 2 $((0020600)) 1 5 1 dev/console
    newc 0 0 1 0 0 'TRAILER!!!'
} >"$tmp/dev.cpio" || die "cannot write the /dev archive"
find "$root" -exec touch -h -d @0 {} + || die "cannot set file times"
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
    cpio --quiet -o -H newc -R 0:0 >"$tmp/root.cpio") ||
    die "cpio failed"
mkdir "$tmp/out"
cat "$tmp/dev.cpio" "$tmp/root.cpio" | gzip -n -9 >"$tmp/out/initramfs.cpio.gz" ||
    die "gzip failed"
cp "$tmp/ember-init" "$tmp/out/ember-init"

rm -rf "$dir"
mv -T "$tmp/out" "$dir" || die "cannot move the result into '$dir'"
link_default
say "done: $(du -k "$out" | cut -f1) KiB"
echo "$out"
