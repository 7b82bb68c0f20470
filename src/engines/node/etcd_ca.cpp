#include "engines/node/etcd_ca.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#include <optional>

#include "checks/component_flags.hpp"
#include "core/object.hpp"

namespace kg::node {

// The first `which` component of a static Pod manifest's text.
std::optional<ComponentFlags> component_of_manifest(const std::string& path, std::string content,
                                                    ControlPlaneComponent which) {
  SourceFile f;
  f.path = path;
  f.content = std::move(content);
  std::vector<InputError> ignored;  // the manifest's own problems are the control-plane rules' business
  load_documents(f);
  std::vector<Object> objects;
  for (const Document& d : f.documents) collect_objects(f, d, objects, ignored);
  for (const Object& obj : objects) {
    const PodView pod = pod_view(obj, PodSpecTable{});
    for (ComponentFlags& c : parse_component_flags(obj, pod))
      if (c.component == which) return std::move(c);
  }
  return std::nullopt;
}

namespace {

using host::HostRoot;

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

// The certificates of a PEM bundle, in order; empty with `why` set when the
// file cannot be read or holds none.
std::vector<X509Ptr> read_bundle(const HostRoot& root, const std::string& path, std::string& why) {
  std::vector<X509Ptr> out;
  std::string text;
  if (!root.exists(path)) {
    why = "not found under the root";
    return out;
  }
  if (!root.read(path, text, std::size_t{1} << 20)) {
    why = "cannot be read (unreadable, not a regular file, or over 1 MiB)";
    return out;
  }
  BIO* bio = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
  if (!bio) {
    why = "cannot be read (out of memory)";
    return out;
  }
  while (X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) out.emplace_back(x);
  BIO_free(bio);
  ERR_clear_error();  // the end of the bundle leaves a "no start line" error behind
  if (out.empty()) why = "holds no PEM certificate";
  return out;
}

std::string subject_of(X509* x) {
  char buf[256];
  X509_NAME_oneline(X509_get_subject_name(x), buf, sizeof buf);
  return buf;
}

std::optional<ComponentFlags> component_in(const HostRoot& root, const std::string& manifest,
                                           ControlPlaneComponent which) {
  std::string content;
  if (!root.read(manifest, content)) return std::nullopt;
  return component_of_manifest(manifest, std::move(content), which);
}

std::string absolute(const std::string& p) { return host::normalize_path(p.empty() || p[0] == '/' ? p : "/" + p); }

}  // namespace

EtcdCa read_etcd_ca(const HostRoot& root, const std::string& manifests) {
  EtcdCa ca;
  const auto etcd = component_in(root, manifests + "/etcd.yaml", ControlPlaneComponent::Etcd);
  if (!etcd) return ca;
  ca.found = true;
  ca.cluster_ca = "/etc/kubernetes/pki/ca.crt";
  ca.cluster_ca_from = "kubeadm's default (no kube-apiserver --client-ca-file on this node)";
  if (const auto api = component_in(root, manifests + "/kube-apiserver.yaml", ControlPlaneComponent::ApiServer)) {
    if (const ComponentFlag* f = api->find("client-ca-file"); f && !f->value.empty()) {
      ca.cluster_ca = absolute(f->value);
      ca.cluster_ca_from = "kube-apiserver --client-ca-file";
    } else {
      ca.cluster_ca_from = "kubeadm's default (kube-apiserver sets no --client-ca-file)";
    }
  }
  std::string why;
  const std::vector<X509Ptr> cluster = read_bundle(root, ca.cluster_ca, why);
  ca.cluster_status = cluster.empty() ? "unreadable" : "read";
  ca.cluster_detail = why;
  for (const char* flag : {"trusted-ca-file", "peer-trusted-ca-file"}) {
    EtcdCaEntry e;
    e.flag = flag;
    const ComponentFlag* f = etcd->find(flag);
    if (!f || f->value.empty()) {
      e.status = "not-set";  // no client (peer) CA: etcd-client-cert-auth-disabled and its peer twin judge that
      ca.entries.push_back(std::move(e));
      continue;
    }
    e.path = absolute(f->value);
    std::string etcd_why;
    const std::vector<X509Ptr> trusted = read_bundle(root, e.path, etcd_why);
    if (trusted.empty()) {
      e.status = "unreadable";
      e.detail = e.path + " " + etcd_why;
    } else if (cluster.empty()) {
      e.status = "unreadable";
      e.detail = "the cluster CA " + ca.cluster_ca + " " + why;
    } else {
      e.status = "distinct";
      for (const X509Ptr& t : trusted) {
        for (const X509Ptr& c : cluster) {
          if (X509_cmp(t.get(), c.get()) == 0) {
            e.status = "same-certificate";
            e.detail = "the same certificate (" + subject_of(t.get()) + ")";
          } else if (EVP_PKEY_eq(X509_get0_pubkey(t.get()), X509_get0_pubkey(c.get())) == 1 &&
                     e.status == "distinct") {
            e.status = "same-key";
            e.detail = "a certificate with the cluster CA's public key (" + subject_of(t.get()) + ", cluster CA " +
                       subject_of(c.get()) + ")";
          }
        }
      }
    }
    ca.entries.push_back(std::move(e));
  }
  return ca;
}

void write_etcd_ca(JsonWriter& w, const EtcdCa& ca) {
  if (!ca.found) return;
  w.key("etcdCA").begin_object();
  w.field("clusterCA", ca.cluster_ca);
  w.field("clusterCAFrom", ca.cluster_ca_from);
  w.field("clusterCAStatus", ca.cluster_status);
  w.key("files").begin_array();
  for (const EtcdCaEntry& e : ca.entries) {
    w.begin_object();
    w.field("flag", e.flag);
    w.field("path", e.path);
    w.field("status", e.status);
    w.field("detail", e.detail);
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

std::vector<CoverageGap> etcd_ca_coverage(const EtcdCa& ca, const std::string& node) {
  std::vector<CoverageGap> out;
  for (const EtcdCaEntry& e : ca.entries) {
    if (e.status != "unreadable") continue;
    CoverageGap g;
    g.kind = "NodeConfig";
    g.api_version = "kguard.io/v1";
    g.resource = "files";
    g.reason = "Unreadable";
    g.message = "node " + node + ": etcd --" + e.flag + " could not be compared with the cluster CA: " + e.detail;
    g.rules = {kEtcdCaRule};
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace kg::node
