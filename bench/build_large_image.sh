#!/usr/bin/env bash
# Builds the large image of the image benchmark (bench/run_image_bench.sh, issue 14 item 9) from
# Debian packages only, once: mmdebstrap --variant=standard plus a desktop, a compiler toolchain,
# a JDK and the scientific Python stack (thousands of dpkg packages, well over 1 GB uncompressed),
# turned into an OCI layout by umoci as the test images are (tests/images/build_images.sh), in two
# gzip layers: the rootfs, then one deleting /usr/share/doc and /var/cache/apt (whiteouts, so the
# reader's whiteout path is exercised at scale) and adding a file.
# Cached under ~/.cache/kguard-images/large-r<RECIPE>; bump RECIPE when you change the recipe.
# Not part of ctest: it downloads and writes a few GB. Prints the cache directory on stdout.
set -euo pipefail
RECIPE=1
CACHE="${KGUARD_IMAGES_CACHE:-$HOME/.cache/kguard-images}/large-r$RECIPE"
if [ -f "$CACHE/done" ]; then echo "$CACHE"; exit 0; fi
mkdir -p "$(dirname "$CACHE")"
exec 9>"$(dirname "$CACHE")/.lock-large"
flock 9
if [ -f "$CACHE/done" ]; then echo "$CACHE"; exit 0; fi
for tool in mmdebstrap umoci; do
  command -v "$tool" >/dev/null || { echo "build_large_image: $tool missing (scripts/install-deps.sh)" >&2; exit 1; }
done
rm -rf "$CACHE.tmp" && mkdir -p "$CACHE.tmp" && cd "$CACHE.tmp"
export SOURCE_DATE_EPOCH=1700000000
rootless=()
[ "$(id -u)" -ne 0 ] && rootless=(--rootless)

# Big dependency trees, all in Debian main: gnome-core alone pulls ~1,000 packages.
PKGS=gnome-core,build-essential,clang,default-jdk-headless,python3-scipy,python3-pandas,perl-doc,git,curl
mmdebstrap --quiet --variant=standard --include="$PKGS" bookworm rootfs.tar >&2
umoci init --layout oci
umoci new --image oci:large
umoci unpack "${rootless[@]}" --image oci:large bundle >&2
tar -C bundle/rootfs -xf rootfs.tar
rm rootfs.tar
umoci repack --image oci:large --history.created_by 'debian bookworm standard + desktop/toolchain rootfs' bundle
rm -rf bundle
umoci config --image oci:large --tag large --config.user=1000:1000 --config.cmd=/bin/bash --os=linux --architecture=amd64
umoci unpack "${rootless[@]}" --image oci:large b2 >&2
rm -rf b2/rootfs/usr/share/doc b2/rootfs/var/cache/apt
mkdir -p b2/rootfs/opt/app && echo app > b2/rootfs/opt/app/VERSION
umoci repack --image oci:large --history.created_by 'RUN rm -rf /usr/share/doc /var/cache/apt' b2
rm -rf b2
umoci gc --layout oci
touch done
cd / && rm -rf "$CACHE" && mv "$CACHE.tmp" "$CACHE"
echo "$CACHE"
