// What is installed in an image, or described by an SBOM: the one inventory
// model the image engine fills, the vuln engine matches and the SBOM renderers
// (report/) write. Engines never include each other, so it lives here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/finding.hpp"

namespace kg {

enum class PackageType : std::uint8_t {
  Deb,      // dpkg status, distroless status.d
  Apk,      // lib/apk/db/installed
  Rpm,      // rpmdb.sqlite, Packages (BerkeleyDB/ndb headers)
  Python,   // *.dist-info/METADATA, *.egg-info
  Npm,      // node_modules/**/package.json, lockfiles
  Golang,   // module build info in a Go binary (and the Go stdlib itself)
  Maven,    // JAR/WAR manifests, pom.properties
  Cargo,    // cargo-auditable section of a Rust binary
};
std::string_view to_string(PackageType t);

// Where a package was seen: the file that declares it and the layer that
// added that file (the layer's digest as in the manifest, sha256:...).
struct PackageEvidence {
  std::string path;  // absolute inside the image root, e.g. /var/lib/dpkg/status
  std::string layer_digest;
};

struct Package {
  PackageType type = PackageType::Deb;
  std::string name;
  std::string version;         // as the ecosystem writes it (deb: [epoch:]upstream[-revision])
  std::string source_name;     // deb Source:, apk origin (o:), rpm source rpm; empty when the same as name
  std::string source_version;  // deb Source: (x.y) version when it differs
  std::string arch;
  std::string license;         // SPDX expression when the ecosystem gives one, else as written
  std::string purl;            // package URL (purl-spec), with distro qualifiers for OS packages
  std::string checksum;        // apk C:, rpm sha256 header, ... when present
  std::vector<PackageEvidence> evidence;
};

// The operating system as the image's own files say (os-release and friends).
struct OsInfo {
  std::string id;               // debian, alpine, rhel, rocky, fedora, ubuntu, ... ("" when unknown)
  std::string version_id;       // 12, 3.20.1, 9.4
  std::string version_codename; // bookworm
  std::string pretty_name;
  // The release branch the package manager installs from, when its sources
  // name one: Alpine's /etc/apk/repositories main/community line (".../v3.10/main"
  // → "3.10", ".../edge/main" → "edge"). Vulnerability feeds are per branch.
  std::string release_stream;
  std::vector<std::string> id_like;
  bool distroless = false;      // a distroless base (status.d, no shell, no package manager)
};

struct LayerInfo {
  std::string digest;      // the blob as stored (compressed), sha256:...
  std::string diff_id;     // the uncompressed tar, from the config's rootfs.diff_ids
  std::string media_type;
  std::uint64_t size = 0;  // compressed bytes
  std::string created_by;  // the history step that made it, when the config says
};

// What a container's pod spec grants it (kguard scan --images), read by the
// vulnerability risk score: 0 unknown, 1 no, 2 yes (vuln::Tri's values).
struct ContainerExposure {
  std::uint8_t privileged = 0;       // securityContext.privileged, or SYS_ADMIN / ALL added
  std::uint8_t host_namespaces = 0;  // hostPID, hostIPC or hostNetwork
  std::uint8_t runs_as_root = 0;     // runAsUser 0 (yes), a non-zero runAsUser or runAsNonRoot (no)
  std::uint8_t host_port = 0;        // a port with hostPort: reachable on the node's address
};

// One container of one object that runs an image (kguard scan --images):
// which workload, which container, which image, and where the manifest says so.
struct ImageUse {
  std::string kind, ns, name;
  std::string container;
  std::string image;  // as the manifest writes it
  Location location;  // the container's image field
  std::size_t object = 0;  // index of the object in input order (Finding::object)
  ContainerExposure exposure;
};

struct ImageInventory {
  std::string reference;       // what the user named
  std::string manifest_digest; // the image's identity (sha256:...), the SBOM's subject
  std::string config_digest;
  std::string platform;        // os/arch[/variant]
  OsInfo os;
  std::vector<LayerInfo> layers;
  std::vector<Package> packages;
};

}  // namespace kg
