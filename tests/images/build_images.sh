#!/usr/bin/env bash
# Builds the real test images of tests/integration/image_real_test.py from Debian packages only,
# once: the result is cached under ~/.cache/kguard-images/<recipe version> and reused while the
# recipe below is unchanged (bump RECIPE when you change it).
#   base: mmdebstrap --variant=minbase bookworm -> umoci (OCI layout) -> 4 layers:
#         rootfs; a layer deleting usr/bin/su and var/cache/debconf (whiteouts) and adding
#         opt/app/x; an opaque etc/apt/apt.conf.d; a whiteout of usr/bin/chfn
#   copies: oci-archive, docker-archive (skopeo: symlinked layer.tar), docker-archive | gzip,
#           OCI layout with zstd layers.
# Prints the cache directory on stdout.
set -euo pipefail
RECIPE=1
CACHE="${KGUARD_IMAGES_CACHE:-$HOME/.cache/kguard-images}/r$RECIPE"
if [ -f "$CACHE/done" ]; then echo "$CACHE"; exit 0; fi
# One builder at a time (two builds' ctest, or two checkouts, may start this together).
mkdir -p "$(dirname "$CACHE")"
exec 9>"$(dirname "$CACHE")/.lock"
flock 9
if [ -f "$CACHE/done" ]; then echo "$CACHE"; exit 0; fi
for tool in mmdebstrap umoci skopeo; do
  command -v "$tool" >/dev/null || { echo "build_images: $tool missing (scripts/install-deps.sh)" >&2; exit 1; }
done
rm -rf "$CACHE.tmp" && mkdir -p "$CACHE.tmp" && cd "$CACHE.tmp"
export SOURCE_DATE_EPOCH=1700000000
rootless=()
[ "$(id -u)" -ne 0 ] && rootless=(--rootless)

mmdebstrap --quiet --variant=minbase --include=ca-certificates bookworm rootfs.tar >&2
umoci init --layout oci
umoci new --image oci:base
umoci unpack "${rootless[@]}" --image oci:base bundle >&2
tar -C bundle/rootfs -xf rootfs.tar
umoci repack --image oci:base --history.created_by 'debian bookworm minbase rootfs' bundle
rm -rf bundle rootfs.tar
umoci config --image oci:base --tag test --config.user=1000:1000 \
  --config.env=API_TOKEN=hunter2 --config.cmd=/bin/bash --os=linux --architecture=amd64
umoci unpack "${rootless[@]}" --image oci:test b2 >&2
rm -f b2/rootfs/usr/bin/su
rm -rf b2/rootfs/var/cache/debconf
mkdir -p b2/rootfs/opt/app && echo hi > b2/rootfs/opt/app/x
umoci repack --image oci:test --history.created_by 'RUN rm /usr/bin/su' b2
rm -rf b2
mkdir -p empty
umoci insert --image oci:test --opaque --history.created_by 'opaque apt.conf.d' empty /etc/apt/apt.conf.d
umoci insert --image oci:test --whiteout --history.created_by 'whiteout chfn' /usr/bin/chfn
rmdir empty
umoci gc --layout oci

skopeo copy --quiet oci:oci:test oci-archive:test-oci.tar:test
skopeo copy --quiet oci:oci:test docker-archive:test-docker.tar:example/test:1.0
gzip -1 -c test-docker.tar > test-docker.tar.gz
skopeo copy --quiet --dest-compress --dest-compress-format zstd oci:oci:test oci:oci-zstd:test
skopeo inspect --raw oci:oci:test | sha256sum | cut -d' ' -f1 > manifest.sha256
skopeo inspect --raw oci:oci-zstd:test | sha256sum | cut -d' ' -f1 > manifest-zstd.sha256
touch done
cd / && rm -rf "$CACHE" && mv "$CACHE.tmp" "$CACHE"
echo "$CACHE"
