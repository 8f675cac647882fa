#!/bin/bash
# Build ember's guest kernel (vmlinux + bzImage) from Debian's linux-source-6.1
# and the config fragment next to this script, into a cache outside the tree.
#
# usage: guest-kernel-config/build.sh [--print-dir]
#
#   Prints the cache directory holding vmlinux, bzImage and .config on stdout
#   (and nothing else there; progress goes to stderr). A cached build returns
#   at once. --print-dir prints the directory without building anything.
#
# Cache: ${EMBER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ember}/kernel-<key>,
# <key> = first 16 hex digits of sha256(fragment + linux-source-6.1 package
# version + this script). A build happens in <cache>/.kernel-<key>.tmp.XXXXXX
# and is renamed into place only when complete, so a half-built kernel is
# never seen. A failed build leaves its log at <cache>/kernel-<key>.failed.log.
#
# Needs (Debian packages): linux-source-6.1 make gcc libc6-dev binutils bc
# bison flex libelf-dev lz4 xz-utils.

set -euo pipefail

PKG=linux-source-6.1
TARBALL=/usr/src/$PKG.tar.xz

die() { echo "ember: guest kernel: $*" >&2; exit 1; }
say() { echo "ember: guest kernel: $*" >&2; }

print_only=0
case "${1-}" in
    "") ;;
    --print-dir) print_only=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (usage: build.sh [--print-dir])" ;;
esac
[ $# -le 1 ] || die "too many arguments (usage: build.sh [--print-dir])"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
self=$here/$(basename "${BASH_SOURCE[0]}")
frag=$here/ember.config
[ -r "$frag" ] || die "config fragment '$frag' is missing"

ver=$(dpkg-query -W -f='${Version}' "$PKG" 2>/dev/null) ||
    die "package $PKG is not installed (apt-get install $PKG)"
[ -n "$ver" ] || die "package $PKG is not installed (apt-get install $PKG)"

key=$( { cat "$frag"; printf '%s\n' "$PKG=$ver"; cat "$self"; } |
       sha256sum | cut -c1-16)
cache=${EMBER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ember}
dir=$cache/kernel-$key

done_p() { [ -s "$dir/vmlinux" ] && [ -s "$dir/bzImage" ]; }

if [ "$print_only" = 1 ] || done_p; then
    echo "$dir"
    exit 0
fi

# ---- preconditions, each with the package that provides it
[ -r "$TARBALL" ] || die "source tarball '$TARBALL' is missing (apt-get install $PKG)"
missing=()
for t in make:make gcc:gcc ld:binutils bc:bc bison:bison flex:flex \
         lz4:lz4 xz:xz-utils sha256sum:coreutils flock:util-linux \
         readelf:binutils; do
    command -v "${t%%:*}" >/dev/null 2>&1 || missing+=("${t#*:}")
done
[ -e /usr/include/libelf.h ] || missing+=(libelf-dev)
[ -e /usr/include/stdio.h ] || missing+=(libc6-dev)
[ ${#missing[@]} -eq 0 ] ||
    die "missing build tools; install: apt-get install $(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')"

mkdir -p "$cache" || die "cannot create cache directory '$cache'"

# One builder per key: a second caller waits, then finds the result.
exec 9>"$cache/kernel-$key.lock" || die "cannot open lock '$cache/kernel-$key.lock'"
flock 9 || die "cannot lock '$cache/kernel-$key.lock'"
if done_p; then
    echo "$dir"
    exit 0
fi

# Under the lock, any temp dir of this key is a leftover of an interrupted run.
rm -rf "$cache/.kernel-$key.tmp."*

tmp=$(mktemp -d "$cache/.kernel-$key.tmp.XXXXXX") ||
    die "cannot create a build directory under '$cache'"
log=$tmp/build.log
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
# fail MSG: keep the log, show its end (unless FAIL_QUIET=1), and exit 1.
fail() {
    cp -f "$log" "$cache/kernel-$key.failed.log" 2>/dev/null || true
    [ "${FAIL_QUIET-0}" = 1 ] || tail -n 40 "$log" >&2 2>/dev/null || true
    die "$* (full log: $cache/kernel-$key.failed.log)"
}

# The kernel's make must not see a calling make's settings (O=, V=, -j
# jobserver) nor a stray kernel-build environment.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES GNUMAKEFLAGS \
      KBUILD_OUTPUT KBUILD_EXTMOD KCONFIG_CONFIG KCONFIG_ALLCONFIG \
      CROSS_COMPILE LLVM O ARCH SUBARCH KCFLAGS KAFLAGS KCPPFLAGS
export ARCH=x86_64
# Keep the build host's name and user out of the kernel banner.
export KBUILD_BUILD_USER=ember KBUILD_BUILD_HOST=ember

src=$tmp/src
mkdir "$src"
start=$(date +%s)
say "building $PKG $ver with $(basename "$frag") into $dir (a few minutes)"

tar -xJf "$TARBALL" -C "$src" --strip-components=1 >"$log" 2>&1 ||
    fail "cannot unpack '$TARBALL'"

# tinyconfig, then the fragment with allnoconfig semantics: anything the
# fragment does not ask for stays off.
make -C "$src" tinyconfig >>"$log" 2>&1 || fail "make tinyconfig failed"
(cd "$src" && scripts/kconfig/merge_config.sh -n .config "$frag") >>"$log" 2>&1 ||
    fail "merge_config.sh failed"

# Every value the fragment sets must have survived Kconfig's dependency
# resolution; an option dropped silently is a config bug.
dropped=0
while IFS= read -r line; do
    case $line in
        CONFIG_*=*) sym=${line%%=*}; want=$line ;;
        "# CONFIG_"*" is not set") sym=${line#"# "}; sym=${sym%% *}; want=n ;;
        *) continue ;;
    esac
    got=$(grep -E "^($sym=|# $sym is not set\$)" "$src/.config" || true)
    if [ "$want" = n ]; then
        case $got in ""|"# $sym is not set") continue ;; esac
    elif [ "$got" = "$want" ]; then
        continue
    fi
    echo "ember: guest kernel: fragment asks '$want', final .config has '${got:-nothing (unmet dependency)}'" >&2
    dropped=1
done <"$frag"
[ "$dropped" = 0 ] || FAIL_QUIET=1 fail "options of $(basename "$frag") were dropped by Kconfig (see above)"

say "configured; compiling with $(nproc) jobs"
make -C "$src" -j"$(nproc)" vmlinux bzImage >>"$log" 2>&1 || fail "kernel build failed"

# The PVH entry is what ember's default loader uses: make sure it is there.
notes=$(readelf -n "$src/vmlinux" 2>>"$log") || fail "readelf cannot read the built vmlinux"
grep -Eq '^[[:space:]]+Xen[[:space:]]+0x[0-9a-f]+[[:space:]].*0x00000012' <<<"$notes" ||
    fail "built vmlinux has no PVH entry note (Xen note type 0x12)"

out=$tmp/out
mkdir "$out"
cp "$src/vmlinux" "$out/vmlinux" &&
cp "$src/arch/x86/boot/bzImage" "$out/bzImage" &&
cp "$src/.config" "$out/.config" &&
printf '%s %s\n' "$PKG" "$ver" >"$out/source-version" &&
cp "$log" "$out/build.log" || fail "cannot copy the results into '$tmp'"

rm -rf "$dir"   # an incomplete leftover (no vmlinux/bzImage) only
mv -T "$out" "$dir" || fail "cannot move the result into '$dir'"
rm -f "$cache/kernel-$key.failed.log"
say "done in $(( $(date +%s) - start )) s"
echo "$dir"
