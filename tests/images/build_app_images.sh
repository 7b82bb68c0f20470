#!/usr/bin/env bash
# Builds the inventory test images of tests/integration/image_inventory_test.py, once: the result is
# cached under ~/.cache/kguard-images/apps-r<recipe> and reused while the recipe below is unchanged
# (bump RECIPE when you change it). Its own cache, so build_images.sh's is not rebuilt for it.
# Sources: Debian packages (apt-get download), the shared corpora (Trivy's alpine 3.11 archive),
# PyPI (one wheel), the npm registry (three tiny packages), the Go module proxy (one module) —
# nothing else.
#   oci:distroless   distroless-like Debian 12: no shell, dpkg data as status.d/<pkg> (+ .md5sums);
#                    layer 1 base-files netbase tzdata media-types, layer 2 libc6 libgcc-s1
#                    gcc-12-base libssl3 zlib1g
#   oci:app          distroless + layer 3 Python (six wheel in /app/site-packages, Debian's
#                    python3-six egg-info + status.d), layer 4 Node (/app/node_modules: is-number 7,
#                    is-odd with its own is-number 6 nested, a scoped package), layer 5 Go
#                    (/app/bin/hello: -trimpath, one module dependency), layer 6 Java (Debian's
#                    libcommons-lang3-java + status.d)
#   oci:debug        distroless + busybox-static with /bin/sh and distroless' own /etc/os-release
#                    (PRETTY_NAME "Distroless"), as distroless' :debug images: still distroless
#   oci:shell        distroless + the same busybox layer, os-release untouched, media-types purged
#                    (its status.d files and its files whited out): not distroless
#   oci:alpine       Trivy's alpine 3.11 + a layer that removes a package as `apk del` does
#                    (its files whited out, its record gone from lib/apk/db/installed)
#   oci:rpm          a root made by Debian's rpm: layer 1 rpm --initdb + kguard-base, layer 2
#                    kguard-tools (epoch, two subpackages): the rpmdb.sqlite rewritten
#   app-docker.tar   oci:app copied by skopeo into a docker-archive
# Keeps beside them what the test derives its expectations from independently (debs/, the wheel,
# the npm folder, the Go binary). Prints the cache directory on stdout.
# Usage: build_app_images.sh CORPORA_DIR
set -euo pipefail
RECIPE=5
CORPORA="${1:?usage: build_app_images.sh CORPORA_DIR}"
CACHE="${KGUARD_IMAGES_CACHE:-$HOME/.cache/kguard-images}/apps-r$RECIPE"
if [ -f "$CACHE/done" ]; then echo "$CACHE"; exit 0; fi
mkdir -p "$(dirname "$CACHE")"
exec 9>"$(dirname "$CACHE")/.lock-apps"
flock 9
if [ -f "$CACHE/done" ]; then echo "$CACHE"; exit 0; fi
for tool in umoci skopeo rpm rpmbuild go npm pip3 dpkg-deb apt-get python3; do
  command -v "$tool" >/dev/null || { echo "build_app_images: $tool missing (scripts/install-deps.sh)" >&2; exit 1; }
done
ALPINE="$CORPORA/supply-chain/alpine/aquasecurity/trivy/pkg/fanal/test/testdata/alpine-311.tar.gz"
[ -f "$ALPINE" ] || { echo "build_app_images: $ALPINE missing" >&2; exit 1; }
rm -rf "$CACHE.tmp" && mkdir -p "$CACHE.tmp" && cd "$CACHE.tmp"
W="$PWD"
export SOURCE_DATE_EPOCH=1700000000

# ---- Debian packages, downloaded with apt (the machine's sources), unpacked as dpkg would ----
BASE_DEBS=(base-files netbase tzdata media-types)
LIB_DEBS=(libc6 libgcc-s1 gcc-12-base libssl3 zlib1g)
mkdir debs
download() { (cd debs && apt-get download -q "${BASE_DEBS[@]}" "${LIB_DEBS[@]}" python3-six libcommons-lang3-java busybox-static >&2 2>&1); }
# A fresh machine may have no package lists yet: fetch them once (as root) and try again.
download || { [ "$(id -u)" -eq 0 ] && apt-get update -q >&2 && download; } ||
  { echo "build_app_images: apt-get download failed (apt-get update?)" >&2; exit 1; }
deb_file() { ls "$W"/debs/"$1"_*.deb; }
# Unpacks a .deb into ROOT and writes its control file as distroless does: status.d/<pkg> (no
# Status field) and status.d/<pkg>.md5sums.
install_deb() {
  local root="$1" deb pkg ctl
  deb=$(deb_file "$2")
  pkg=$(dpkg-deb -f "$deb" Package)
  dpkg-deb -x "$deb" "$root"
  ctl=$(mktemp -d)
  dpkg-deb -e "$deb" "$ctl"
  mkdir -p "$root/var/lib/dpkg/status.d"
  cp "$ctl/control" "$root/var/lib/dpkg/status.d/$pkg"
  [ -f "$ctl/md5sums" ] && cp "$ctl/md5sums" "$root/var/lib/dpkg/status.d/$pkg.md5sums"
  rm -rf "$ctl"
}
rootless=()
[ "$(id -u)" -ne 0 ] && rootless=(--rootless)
# Adds the files of directory $2 to the image tag $1 as one layer (umoci insert DIR / writes a
# truncated layer tar, so: unpack, copy, repack).
# Paths after the third argument are deleted in that layer (whiteouts).
add_layer() {
  umoci unpack "${rootless[@]}" --image "oci:$1" bundle >&2
  local gone
  for gone in "${@:4}"; do rm -rf "bundle/rootfs/$gone"; done
  cp -a --remove-destination "$2"/. bundle/rootfs/  # replace, never write through a symlink
  umoci repack --image "oci:$1" --history.created_by "$3" bundle
  rm -rf bundle
}

umoci init --layout oci

# ---- distroless-like ----
umoci new --image oci:distroless
mkdir -p l1 l2
for p in "${BASE_DEBS[@]}"; do install_deb l1 "$p"; done
for p in "${LIB_DEBS[@]}"; do install_deb l2 "$p"; done
for l in l1 l2; do
  if [ -e "$l/bin/sh" ] || [ -e "$l/usr/bin/sh" ]; then echo "build_app_images: a shell in $l" >&2; exit 1; fi
done
add_layer distroless l1 'distroless-like: base-files netbase tzdata media-types'
add_layer distroless l2 'distroless-like: libc6 libgcc-s1 gcc-12-base libssl3 zlib1g'
umoci config --image oci:distroless --config.user=65532:65532 --os=linux --architecture=amd64 \
  --config.entrypoint=/app/bin/hello
rm -rf l1 l2

# ---- a shell on the distroless base: with and without distroless' os-release ----
install_deb l7 busybox-static
ln -s busybox l7/bin/sh
umoci tag --image oci:distroless shell
# ...and removes media-types as dpkg --purge would: its status.d files and its own files.
mapfile -t media < <(dpkg-deb -c "$(deb_file media-types)" | awk '$1 !~ /^d/ {sub(/^\.\//, "", $6); print $6}')
add_layer shell l7 'busybox-static, /bin/sh; dpkg --purge media-types' \
  var/lib/dpkg/status.d/media-types var/lib/dpkg/status.d/media-types.md5sums "${media[@]}"
mkdir -p l7/etc
printf '%s\n' 'PRETTY_NAME="Distroless"' 'NAME="Debian GNU/Linux"' 'ID="debian"' 'VERSION_ID="12"' \
  'VERSION="Debian GNU/Linux 12 (bookworm)"' 'HOME_URL="https://github.com/GoogleContainerTools/distroless"' \
  > l7/etc/os-release
umoci tag --image oci:distroless debug
add_layer debug l7 'busybox-static, /bin/sh, distroless os-release'
rm -rf l7

# ---- application layers on the distroless base ----
umoci tag --image oci:distroless app
# Python: a wheel from PyPI unpacked (dist-info) and Debian's python3-six (egg-info directory).
mkdir -p wheel l3/app/site-packages
pip3 download -q --no-deps --only-binary=:all: --no-cache-dir -d wheel six==1.16.0 >&2
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' wheel/six-1.16.0-*.whl l3/app/site-packages
install_deb l3 python3-six
add_layer app l3 'python: six wheel, python3-six'
# Node: npm install; is-odd 3 wants is-number 6: npm nests it under is-odd; one scoped package.
mkdir -p npm l4/app
(cd npm && npm install -q --no-audit --no-fund --ignore-scripts --prefix . is-number@7.0.0 is-odd@3.0.1 \
  @isaacs/string-locale-compare@1.1.0 >&2)
cp -a npm/node_modules l4/app/
add_layer app l4 'node: is-number is-odd @isaacs/string-locale-compare'
# Go: a program with one module dependency, from the Go module proxy; reproducible (-trimpath).
mkdir -p go l5/app/bin
cat > go/main.go <<'EOF'
package main

import (
	"fmt"

	"github.com/google/uuid"
)

func main() { fmt.Println(uuid.NewSHA1(uuid.NameSpaceURL, []byte("kguard")).String()) }
EOF
(cd go && export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0 GOPATH="$W/gopath" GOMODCACHE="$W/gopath/mod" &&
  go mod init example.com/kguard-hello >&2 2>&1 && go get github.com/google/uuid@v1.6.0 >&2 2>&1 &&
  go build -trimpath -o hello . >&2)
chmod -R u+w gopath && rm -rf gopath  # the module cache is read-only
cp go/hello l5/app/bin/hello
add_layer app l5 'go: hello'
# Java: Debian's commons-lang3 (a JAR with pom.properties) as distroless' java images hold it.
install_deb l6 libcommons-lang3-java
add_layer app l6 'java: libcommons-lang3-java'
rm -rf l3 l4 l5 l6

# ---- Alpine: Trivy's alpine 3.11 docker save, and `apk del` of one package in a second layer ----
gzip -dc "$ALPINE" > alpine.tar  # skopeo reads only a plain docker-archive
skopeo copy --quiet docker-archive:alpine.tar oci:oci:alpine
rm alpine.tar
umoci unpack "${rootless[@]}" --image oci:alpine abundle >&2
python3 - abundle/rootfs ssl_client <<'EOF'
# Removes package sys.argv[2] as apk del does: its record leaves lib/apk/db/installed and the
# files its F:/R: lines list are deleted.
import os, sys
root, victim = sys.argv[1], sys.argv[2]
db = os.path.join(root, "lib/apk/db/installed")
records = open(db).read().split("\n\n")
keep, gone = [], None
for r in records:
    if ("\n" + r).find("\nP:" + victim + "\n") >= 0:
        gone = r
    elif r.strip():
        keep.append(r)
assert gone, victim + " not installed"
d = None
for line in gone.splitlines():
    if line.startswith("F:"):
        d = line[2:]
    elif line.startswith("R:"):
        os.remove(os.path.join(root, d, line[2:]))
open(db, "w").write("\n\n".join(keep) + "\n\n")
EOF
umoci repack --image oci:alpine --history.created_by 'apk del ssl_client' abundle
rm -rf abundle

# ---- rpm: a fresh root made by Debian's rpm (sqlite rpmdb), two layers ----
mkdir -p rpmtop
cat > kguard-base.spec <<'EOF'
Name: kguard-base
Version: 1.0
Release: 1.kg
Summary: base of the kguard rpm test root
License: MIT
BuildArch: noarch
%description
The os-release of the kguard rpm test root.
%install
mkdir -p %{buildroot}/etc
printf 'NAME="kguard rpm test root"\nID=kguard-rpm\nVERSION_ID=1\nPRETTY_NAME="kguard rpm test root 1"\n' > %{buildroot}/etc/os-release
%files
/etc/os-release
EOF
cat > kguard-tools.spec <<'EOF'
Name: kguard-tools
Version: 2.4.1
Release: 3.kg
Epoch: 1
Summary: tools of the kguard rpm test root
License: Apache-2.0 AND BSD-3-Clause
BuildArch: noarch
%description
tools
%package -n kguard-tools-doc
Summary: docs
License: CC-BY-4.0
Version: 0.7
%description -n kguard-tools-doc
docs
%install
mkdir -p %{buildroot}/usr/share/kguard-tools
echo tools > %{buildroot}/usr/share/kguard-tools/README
%files
/usr/share/kguard-tools/README
%files -n kguard-tools-doc
EOF
for s in kguard-base kguard-tools; do
  rpmbuild --quiet -bb --define "_topdir $W/rpmtop" "$s.spec" >&2
done
rpmi() { rpm --root "$W/$1" --dbpath /var/lib/rpm "${@:2}" 2>&1 | { grep -v "^rpm: \(RPM should not\|However assuming\)" >&2 || true; }; }
umoci new --image oci:rpm
umoci unpack "${rootless[@]}" --image oci:rpm rbundle >&2
rpmi rbundle/rootfs --initdb
rpmi rbundle/rootfs -i --nodeps --noscripts rpmtop/RPMS/noarch/kguard-base-*.rpm
umoci repack --image oci:rpm --history.created_by 'rpm -i kguard-base' rbundle
rm -rf rbundle
umoci unpack "${rootless[@]}" --image oci:rpm rbundle >&2
rpmi rbundle/rootfs -i --nodeps --noscripts rpmtop/RPMS/noarch/kguard-tools-*.rpm
umoci repack --image oci:rpm --history.created_by 'rpm -i kguard-tools kguard-tools-doc' rbundle
umoci config --image oci:rpm --os=linux --architecture=amd64
rm -rf rbundle rpmtop

umoci gc --layout oci
# The app image as docker save writes it (legacy layout: layers named by their diff_ids).
skopeo copy --quiet oci:oci:app docker-archive:app-docker.tar:kguard/app:1
touch done
cd / && rm -rf "$CACHE" && mv "$CACHE.tmp" "$CACHE"
echo "$CACHE"
