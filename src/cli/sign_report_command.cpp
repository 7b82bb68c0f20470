// kguard sign report: which signing key vouches for each image the workloads run (docs/signing.md
// "Which images does a key sign?"). For a key rotation or a leaked key: every image of a cluster
// (or of manifests, charts, kustomizations, snapshots) resolved to its digest, verified against
// every key, and grouped per key, plus the images signed only by revoked keys, by no listed key, or
// not at all, so those can be re-signed before the old key stops counting.
#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "catalog/catalog.hpp"
#include "cli/args.hpp"
#include "cli/cluster.hpp"
#include "cli/commands.hpp"
#include "cli/sign_keys.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/json_writer.hpp"
#include "engines/scan/scan.hpp"
#include "engines/sign/keyring.hpp"
#include "engines/sign/keys.hpp"
#include "engines/sign/sign.hpp"

namespace kg::cli {
namespace {

using kg::sign::SignError;

constexpr const char* kReportHelp = R"(Usage: kguard sign report --key REF [--key REF...] [--revoked REF...] (--cluster | PATH...)

Lists every image the workloads use (a live cluster with --cluster, or manifests, charts,
kustomizations and snapshots), resolves each to its manifest digest, verifies its cosign signatures
(both formats) against every key, and groups the images per key: which images each key signs, which
are signed only by revoked keys, by none of the keys, or not at all. For a key rotation or a leaked
key: the images to re-sign before the old key stops counting.
  --key REF                a key whose images to list: cosign.pub, a PEM public key, or a PKCS#11 URI
                           (repeatable); NAME=REF names it in the report (NAME without '/' or ':')
  --certificate-identity ID --certificate-oidc-issuer URL --certificate-chain FILE|--trusted-root FILE
                           (and the other keyless flags of kguard verify): signatures carrying a
                           certificate are verified too, and grouped per certificate identity
  --revoked REF            a revoked key (public key, PKCS#11 URI or sha256:<hex> fingerprint): its
                           signatures do not count; its images are listed under it to be re-signed
  -o, --output FORMAT      text (default), json, csv or markdown
      --output-file FILE   write the report there instead of stdout
      --jobs N             images verified at once (4)
  --allow-insecure-registry, --registry-ca FILE, --docker-config FILE   as for verify
Cluster flags (with --cluster):
%CLUSTER%
Exit status: 0 every image carries a valid signature by a listed key, 1 some image does not (or
could not be checked), 2 error.
)";

struct Use {
  std::string kind, ns, name, container, file;
  std::uint32_t line = 0;
};

// One image reference as the workloads write it, and what its signatures say.
struct ImageRow {
  std::string reference;
  std::vector<Use> uses;
  std::string digest;
  std::set<std::string> valid;    // fingerprints of listed, unrevoked keys with a verified signature
  std::set<std::string> revoked;  // fingerprints of revoked keys with a verified signature
  std::set<std::string> identities;  // keyless: certificate identities with a verified signature
  std::size_t signatures = 0;     // signatures found, whoever made them
  std::string error;
  // signed | revoked-only | unknown-key | unsigned | error
  const char* status() const {
    if (!error.empty()) return "error";
    if (!valid.empty()) return "signed";
    if (!revoked.empty()) return "revoked-only";
    return signatures ? "unknown-key" : "unsigned";
  }
};

struct ReportKey {
  std::string label;  // NAME, else the REF as given
  std::string ref;
  std::string fingerprint;
  bool revoked = false;
};

std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string md_cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out;
}

std::string use_text(const Use& u) {
  std::string who = u.kind + " " + (u.ns.empty() ? "" : u.ns + "/") + u.name + " (" + u.container + ")";
  return who;
}

std::string join(const std::set<std::string>& fps, const std::string& prefix = "sha256:") {
  std::string out;
  for (const std::string& f : fps) out += (out.empty() ? "" : " ") + prefix + f;
  return out;
}

// The groups of the report, in order: each key's images, then the images no valid key vouches for.
struct Group {
  std::string title;
  std::string key_fingerprint;  // "" for the status groups, "keyless" for an identity
  std::vector<const ImageRow*> rows;
};

std::vector<Group> groups_of(const std::vector<ReportKey>& keys, const std::vector<ImageRow>& rows) {
  std::vector<Group> out;
  for (const ReportKey& k : keys) {
    Group g;
    g.title = std::string(k.revoked ? "revoked key " : "key ") + k.label + " (sha256:" + k.fingerprint + ")";
    g.key_fingerprint = k.fingerprint;
    for (const ImageRow& r : rows)
      if ((k.revoked ? r.revoked : r.valid).count(k.fingerprint)) g.rows.push_back(&r);
    out.push_back(std::move(g));
  }
  std::set<std::string> identities;
  for (const ImageRow& r : rows) identities.insert(r.identities.begin(), r.identities.end());
  for (const std::string& id : identities) {
    Group g;
    g.title = "certificate identity " + id;
    g.key_fingerprint = "keyless";
    for (const ImageRow& r : rows)
      if (r.identities.count(id)) g.rows.push_back(&r);
    out.push_back(std::move(g));
  }
  const std::pair<const char*, const char*> statuses[] = {
      {"revoked-only", "signed only by revoked keys: re-sign these"},
      {"unknown-key", "signed, but by none of the listed keys"},
      {"unsigned", "not signed"},
      {"error", "could not be checked"}};
  for (const auto& [status, title] : statuses) {
    Group g;
    g.title = title;
    for (const ImageRow& r : rows)
      if (std::string_view(r.status()) == status) g.rows.push_back(&r);
    out.push_back(std::move(g));
  }
  return out;
}

void render_text(std::ostream& o, const std::vector<ReportKey>& keys, const std::vector<ImageRow>& rows) {
  for (const Group& g : groups_of(keys, rows)) {
    if (g.key_fingerprint.empty() && g.rows.empty()) continue;
    o << g.title << ": " << g.rows.size() << (g.rows.size() == 1 ? " image" : " images") << '\n';
    for (const ImageRow* r : g.rows) {
      o << "  " << r->reference;
      if (!r->digest.empty()) o << "  " << r->digest;
      o << '\n';
      if (!r->error.empty()) o << "      error: " << r->error << '\n';
      for (const Use& u : r->uses) o << "      used by " << use_text(u) << "  " << u.file << ':' << u.line << '\n';
    }
  }
  std::size_t ok = 0;
  for (const ImageRow& r : rows) ok += !r.valid.empty();
  o << rows.size() << " images, " << ok << " signed by a valid listed key, " << rows.size() - ok << " not\n";
}

void render_json(std::ostream& o, const std::vector<ReportKey>& keys, const std::vector<ImageRow>& rows) {
  JsonWriter w(o);
  w.begin_object();
  w.field("generated", utc_now_rfc3339());
  w.key("keys").begin_array();
  for (const ReportKey& k : keys) {
    std::size_t n = 0;
    for (const ImageRow& r : rows) n += (k.revoked ? r.revoked : r.valid).count(k.fingerprint);
    w.begin_object();
    w.field("name", k.label).field("ref", k.ref).field("fingerprint", "sha256:" + k.fingerprint);
    w.field("revoked", k.revoked).field("images", static_cast<std::uint64_t>(n));
    w.end_object();
  }
  w.end_array();
  w.key("images").begin_array();
  for (const ImageRow& r : rows) {
    w.begin_object();
    w.field("reference", r.reference).field("digest", r.digest).field("status", r.status());
    w.key("signedBy").begin_array();
    for (const std::string& f : r.valid) w.value("sha256:" + f);
    w.end_array();
    w.key("certificateIdentities").begin_array();
    for (const std::string& id : r.identities) w.value(id);
    w.end_array();
    w.key("revokedSignedBy").begin_array();
    for (const std::string& f : r.revoked) w.value("sha256:" + f);
    w.end_array();
    w.field("signatures", static_cast<std::uint64_t>(r.signatures));
    if (!r.error.empty()) w.field("error", r.error);
    w.key("usedBy").begin_array();
    for (const Use& u : r.uses) {
      w.begin_object();
      w.field("kind", u.kind).field("namespace", u.ns).field("name", u.name).field("container", u.container);
      w.field("file", u.file).field("line", static_cast<std::uint64_t>(u.line));
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.end_object();
  o << '\n';
}

void render_csv(std::ostream& o, const std::vector<ImageRow>& rows) {
  // One row per image and workload container, so a spreadsheet filters by either.
  o << "image,digest,status,signed_by,revoked_signed_by,kind,namespace,name,container,file,line,error\n";
  for (const ImageRow& r : rows) {
    std::vector<Use> uses = r.uses.empty() ? std::vector<Use>{Use{}} : r.uses;
    for (const Use& u : uses) {
      o << csv_cell(r.reference) << ',' << r.digest << ',' << r.status() << ',' << join(r.valid) << ','
        << join(r.revoked) << ',' << csv_cell(u.kind) << ',' << csv_cell(u.ns) << ',' << csv_cell(u.name) << ','
        << csv_cell(u.container) << ',' << csv_cell(u.file) << ',' << u.line << ',' << csv_cell(r.error) << '\n';
    }
  }
}

void render_markdown(std::ostream& o, const std::vector<ReportKey>& keys, const std::vector<ImageRow>& rows) {
  o << "# Images by signing key\n\n| key | fingerprint | revoked | images |\n|---|---|---|---|\n";
  for (const ReportKey& k : keys) {
    std::size_t n = 0;
    for (const ImageRow& r : rows) n += (k.revoked ? r.revoked : r.valid).count(k.fingerprint);
    o << "| " << md_cell(k.label) << " | `sha256:" << k.fingerprint << "` | " << (k.revoked ? "yes" : "no") << " | "
      << n << " |\n";
  }
  for (const Group& g : groups_of(keys, rows)) {
    if (g.key_fingerprint.empty() && g.rows.empty()) continue;
    o << "\n## " << md_cell(g.title) << " (" << g.rows.size() << ")\n\n";
    if (g.rows.empty()) continue;
    o << "| image | digest | used by |\n|---|---|---|\n";
    for (const ImageRow* r : g.rows) {
      std::string used;
      for (const Use& u : r->uses) used += (used.empty() ? "" : "<br>") + md_cell(use_text(u));
      o << "| " << md_cell(r->reference) << " | " << (r->digest.empty() ? md_cell(r->error) : "`" + r->digest + "`")
        << " | " << used << " |\n";
    }
  }
}

}  // namespace

int sign_report_command(const std::vector<std::string>& all_args) {
  // all_args[0] is "report".
  const std::vector<std::string> args(all_args.begin() + 1, all_args.end());
  std::vector<std::pair<std::string, std::string>> key_refs;  // label, ref
  std::vector<std::string> revoked_refs, paths;
  std::string output = "text", output_file;
  unsigned jobs = 4;
  ClusterFlags cluster;
  kg::sign::RegistryOptions registry;
  KeylessFlags keyless;
  auto usage = [](const std::string& msg) {
    std::cerr << "kguard sign report: " << msg << "\n";
    return 2;
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    ArgCursor flag(args, i);
    std::string v, error;
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::string help = kReportHelp;
      help.replace(help.find("%CLUSTER%\n"), 10, cluster_flags_help());
      std::cout << help;
      return 0;
    }
    if (int r = registry_flag(args, i, registry, error); r != 0) {
      if (r < 0) return usage(error);
      continue;
    }
    if (int r = cluster.parse(args, i, error); r != 0) {
      if (r < 0) return usage(error);
      continue;
    }
    if (a == "--insecure-ignore-tlog" || a == "--insecure-ignore-tlog=true") {
      keyless.ignore_tlog = true;
      continue;
    }
    if (int r = keyless.parse(args, i, error); r != 0) {
      if (r < 0) return usage(error);
      continue;
    }
    if (flag.is("--key")) {
      if (!flag.value(v) || v.empty()) return usage("--key needs a public key or PKCS#11 URI");
      // NAME=REF: a name has neither '/' nor ':' (a path or a pkcs11: URI never parses as one).
      const auto eq = v.find('=');
      if (eq != std::string::npos && eq > 0 && v.find_first_of("/:") > eq)
        key_refs.emplace_back(v.substr(0, eq), v.substr(eq + 1));
      else
        key_refs.emplace_back(v, v);
    } else if (flag.is("--revoked")) {
      if (!flag.value(v) || v.empty()) return usage("--revoked needs a public key, PKCS#11 URI or sha256:<hex>");
      revoked_refs.push_back(v);
    } else if (flag.is("--output", "-o")) {
      if (!flag.value(v) || (v != "text" && v != "json" && v != "csv" && v != "markdown"))
        return usage("-o is text, json, csv or markdown");
      output = v;
    } else if (flag.is("--output-file")) {
      if (!flag.value(v) || v.empty()) return usage("--output-file needs a file");
      output_file = v;
    } else if (flag.is("--jobs")) {
      long long n = 0;
      if (!flag.value(v) || !parse_int_in(v, 1, 64, n)) return usage("--jobs is a number from 1 to 64");
      jobs = static_cast<unsigned>(n);
    } else if (!a.empty() && a[0] == '-' && a != "-") {
      return usage("unknown flag '" + a + "'");
    } else {
      paths.push_back(a);
    }
  }
  if (key_refs.empty() && revoked_refs.empty() && !keyless.given())
    return usage("needs --key REF (and/or --revoked REF, or keyless --certificate-identity ...)");
  if (cluster.enabled == !paths.empty()) return usage("name the workloads: --cluster, or manifest/snapshot paths");

  // The keys: listed ones, then revoked ones (a listed key that is also revoked counts as revoked).
  // A revoked key named by file or URI is verified against too, so its images are found.
  std::vector<ReportKey> keys;
  std::vector<kg::sign::PublicKey> loaded;
  kg::sign::VerifyOptions what;
  kg::sign::KeylessOptions keyless_options;
  try {
    if (keyless.given()) {
      keyless_options = keyless.options();
      what.keyless = &keyless_options;
    }
    for (const auto& [label, ref] : key_refs) {
      loaded.push_back(open_public_key(ref));
      keys.push_back({label, ref, loaded.back().fingerprint(), false});
    }
    for (const std::string& ref : revoked_refs) {
      std::string fp = kg::sign::fingerprint_hex(ref);
      if (fp.empty()) {
        loaded.push_back(open_public_key(ref));
        fp = loaded.back().fingerprint();
      }
      what.refused_keys[fp] = kg::sign::revoked_reason(fp);
      bool listed = false;
      for (ReportKey& k : keys)
        if (k.fingerprint == fp) k.revoked = listed = true;
      if (!listed) keys.push_back({ref, ref, fp, true});
    }
  } catch (const SignError& e) {
    std::cerr << "kguard sign report: " << e.what() << '\n';
    return 2;
  }

  // The workloads' images: the scan engine's image list (scan --images), with no rule to judge but
  // one that makes a cluster read list the workload kinds.
  ScanOptions options;
  Config config;
  config.apply(options);
  options.collect_images = true;
  options.only = {"readiness-probe-missing"};
  const Catalog& catalog = Catalog::builtin();
  std::optional<kube::ClusterRead> cluster_read;
  if (cluster.enabled) {
    std::vector<const Rule*> selected;
    for (const auto& r : catalog.rules())
      if (rule_selected(*r, options)) selected.push_back(r.get());
    cluster_read = read_cluster_for_scan(cluster, selected, options, false);
    if (!cluster_read) return 2;
  }
  Scanner scanner(catalog, options);
  ScanResult result = cluster_read ? scanner.scan_buffer("cluster:" + (cluster_read->info.context.empty()
                                                                           ? cluster_read->info.server
                                                                           : cluster_read->info.context),
                                                         std::move(cluster_read->snapshot))
                                   : scanner.scan(paths);
  for (const InputError& e : result.errors)
    std::cerr << "kguard sign report: " << e.file << (e.line ? ":" + std::to_string(e.line) : "") << ": " << e.message
              << '\n';
  std::vector<ImageRow> rows;
  std::map<std::string, std::size_t> by_reference;
  for (const ImageUse& u : result.image_uses) {
    auto [it, fresh] = by_reference.emplace(u.image, rows.size());
    if (fresh) rows.push_back({u.image, {}, "", {}, {}, {}, 0, ""});
    rows[it->second].uses.push_back({u.kind, u.ns, u.name, u.container, u.location.file, u.location.line});
  }

  // Each reference → digest → signatures under every key; one verification per digest.
  std::vector<const kg::sign::PublicKey*> ptrs;
  for (const auto& k : loaded) ptrs.push_back(&k);
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < rows.size(); i = next++) {
      ImageRow& r = rows[i];
      try {
        kg::sign::VerifyResult res = kg::sign::verify_image(r.reference, ptrs, what, registry);
        r.digest = res.image.digest;
        r.signatures = res.signatures.size();
        for (const kg::sign::Signature& s : res.signatures) {
          if (s.verified) r.valid.insert(s.key);
          else if (s.refused) r.revoked.insert(s.key);
          if (s.verified && !s.identity.empty()) r.identities.insert(s.identity + " (issuer " + s.issuer + ")");
        }
      } catch (const std::exception& e) {
        r.error = e.what();
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned j = 0; j < std::min<std::size_t>(jobs, rows.size()); ++j) pool.emplace_back(work);
  for (std::thread& t : pool) t.join();

  std::ofstream file;
  if (!output_file.empty()) {
    file.open(output_file, std::ios::binary | std::ios::trunc);
    if (!file) return usage("cannot write " + output_file);
  }
  std::ostream& o = output_file.empty() ? std::cout : file;
  if (output == "json") render_json(o, keys, rows);
  else if (output == "csv") render_csv(o, rows);
  else if (output == "markdown") render_markdown(o, keys, rows);
  else render_text(o, keys, rows);
  o.flush();
  if (!o) return usage("writing the report failed");
  bool all_signed = true;
  for (const ImageRow& r : rows) all_signed = all_signed && !r.valid.empty();
  return all_signed ? 0 : 1;
}

}  // namespace kg::cli
