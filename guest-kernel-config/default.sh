#!/bin/bash
# Build ember's default Linux guest when missing and make it the default:
# runs build.sh (vmlinux, bzImage) and initramfs.sh (initramfs.cpio.gz),
# then points <cache>/default/{vmlinux,bzImage,initramfs.cpio.gz} at the
# results. `ember run --kernel default` (and `ember run -- CMD`) boots what
# <cache>/default holds, or $EMBER_KERNEL_DIR when set; ember never builds.
#
# usage: guest-kernel-config/default.sh
#   Prints <cache>/default on stdout (progress goes to stderr).
#   <cache> = ${EMBER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ember}
set -euo pipefail

die() { echo "ember: default guest: $*" >&2; exit 1; }
case "${1-}" in
    "") ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (usage: default.sh)" ;;
esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kdir=$("$here/build.sh") || die "the kernel build failed"
"$here/initramfs.sh" >/dev/null || die "the initramfs build failed"

cache=${EMBER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ember}
mkdir -p "$cache/default" || die "cannot create '$cache/default'"
for f in vmlinux bzImage; do
    [ -s "$kdir/$f" ] || die "'$kdir/$f' is missing after the build"
    ln -sfn "$kdir/$f" "$cache/default/.$f.new" &&
    mv -T "$cache/default/.$f.new" "$cache/default/$f" ||
        die "cannot link '$cache/default/$f'"
done
[ -e "$cache/default/initramfs.cpio.gz" ] || die "initramfs.sh did not link the initramfs"
echo "$cache/default"
