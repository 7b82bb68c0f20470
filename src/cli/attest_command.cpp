// kguard attest / verify-attestation (and verify --attestation): cosign-compatible in-toto
// attestations (engines/sign/attest.hpp, docs/signing.md "Attestations"). The SBOM and
// vulnerability predicates kguard makes itself come from `kguard image`, run in-process.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/args.hpp"
#include "cli/attest_predicates.hpp"
#include "cli/commands.hpp"
#include "cli/sign_keys.hpp"
#include "core/json_writer.hpp"
#include "engines/sign/attest.hpp"
#include "engines/sign/keys.hpp"
#include "engines/sign/pkcs11.hpp"
#include "engines/vuln/db/database.hpp"
#include "sources/image/json.hpp"
#include "sources/image/stream.hpp"

namespace kg::cli {
namespace {

using kg::sign::SignError;

constexpr const char* kAttestHelp = R"(Usage: kguard attest --key REF (--type TYPE --predicate FILE | --sbom | --vuln) [options] IMAGE

Signs an in-toto statement about the registry image IMAGE (subject: the repository and the manifest
digest the reference resolves to) in a DSSE envelope and attaches it as `cosign attest` does.
  --key REF                  cosign.key (password from COSIGN_PASSWORD or a prompt), a PEM private
                             key, or a PKCS#11 URI
  --type TYPE                custom (default), slsaprovenance, slsaprovenance02, slsaprovenance1,
                             link, spdx, spdxjson, cyclonedx, vuln, openvex, or a predicate type URI
  --predicate FILE           the predicate (JSON; custom wraps the text as {Data, Timestamp})
  --sbom                     the predicate is kguard image's CycloneDX SBOM of IMAGE (--type cyclonedx)
  --vuln                     the predicate is kguard image's vulnerability result of IMAGE in cosign's
                             vuln shape: scanner {uri, version, db, result}, metadata {scanStartedOn,
                             scanFinishedOn} (--type vuln); --db PATH names the database
  --new-bundle-format        a Sigstore bundle v0.3 attached as an OCI 1.1 referrer (default: the
                             legacy sha256-<hex>.att tag); --format legacy|bundle says the same
  --replace                  legacy: drop the .att layers of the same predicate type first
  --allow-insecure-registry, --allow-http-registry, --registry-ca FILE, --docker-config FILE
                             as for kguard sign
  --tlog-upload=false, -y    accepted for cosign's command lines (kguard attests offline)
Exit status: 0 attached, 2 error.
)";

constexpr const char* kVerifyAttestationHelp = R"(Usage: kguard verify-attestation --key REF [--type TYPE] [policy] [options] IMAGE
       kguard verify --attestation TYPE --key REF [policy] [options] IMAGE

Verifies the attestations of the registry image IMAGE: the DSSE signature over the envelope's PAE
under one of the keys, the statement's subject naming the manifest digest IMAGE resolves to (never
a tag), and the statement's predicate type. Both formats are read (.att tag and bundle referrers).
  --key REF                  cosign.pub or a PKCS#11 URI; repeat for any-of
  --type TYPE                as for attest (custom by default, as cosign)
  --policy FILE              a flat YAML mapping of the checks below
  --max-severity SEVERITY    no vulnerability above SEVERITY (low, medium, high, critical) at scan
                             time (vuln: scanner.result; cyclonedx: vulnerabilities)
  --max-age DURATION         the scan / SBOM / statement younger than DURATION (30m, 12h, 7d, 2w)
  --require-sbom             the image also carries a verified CycloneDX or SPDX attestation
  --format legacy|bundle|any which attachments to read (any)
  -o, --output text|json     the result on stdout (text)
  --allow-insecure-registry, --allow-http-registry, --registry-ca FILE, --docker-config FILE
  --insecure-ignore-tlog     accepted for cosign's command lines (offline, key-based)
Exit status: 0 an attestation of TYPE verified and passed the policy, 1 none did (each check that
failed is named), 2 error.
)";

// `kguard image` in-process, its one output written to a temporary file that is read back.
std::string run_image(const std::vector<std::string>& args, const std::string& format) {
  char tmpl[] = "/tmp/kguard-attest-XXXXXX";
  int fd = ::mkstemp(tmpl);
  if (fd < 0) throw SignError("cannot create a temporary file for kguard image's output");
  ::close(fd);
  std::vector<std::string> a = args;
  a.insert(a.end(), {"-o", format + "=" + tmpl});
  int code = image_command(a);
  std::string out;
  try {
    out = read_sign_file(tmpl);
  } catch (const SignError&) {
  }
  ::unlink(tmpl);
  if (code == 2 || out.empty())
    throw SignError("kguard image could not make the predicate (exit " + std::to_string(code) + ", see above)");
  return out;
}

// cosign's CosignVulnPredicate around kguard image's JSON (inventory + vulnerabilities).
std::string vuln_predicate(const std::vector<std::string>& image_args, const std::string& db_path) {
  auto started = std::chrono::system_clock::now();
  std::string result = run_image(image_args, "json");
  auto finished = std::chrono::system_clock::now();
  std::string db_version;
  {
    std::unique_ptr<image::JsonDoc> doc;
    try {
      doc = image::parse_json(result, "kguard image -o json");
    } catch (const image::ImageError& e) {
      throw SignError(e.what());
    }
    const Node* v = get(doc->root, "vulnerabilities");
    if (!v) throw SignError("kguard image matched no vulnerability database (--db PATH, kguard db build)");
    db_version = std::string(str(get(v, "dbBuiltAt")));
  }
  return vuln_predicate_json(result, db_path, db_version, started, finished);
}

int attest_cmd(const std::vector<std::string>& args) {
  std::string key, image, type, predicate_file, db_path;
  bool sbom = false, vuln = false, replace = false;
  kg::sign::Format format = kg::sign::Format::Legacy;
  kg::sign::RegistryOptions options;
  std::vector<std::string> image_args;
  for (std::size_t i = 0; i < args.size(); ++i) {
    ArgCursor flag(args, i);
    std::string v, error;
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kAttestHelp;
      return 0;
    }
    if (int r = registry_flag(args, i, options, error, &image_args); r != 0) {
      if (r < 0) return std::cerr << "kguard attest: " << error << '\n', 2;
      continue;
    }
    if (flag.is("--key")) {
      if (!flag.value(v) || v.empty()) return std::cerr << "kguard attest: --key needs a key file or PKCS#11 URI\n", 2;
      key = v;
    } else if (flag.is("--type")) {
      if (!flag.value(v) || v.empty()) return std::cerr << "kguard attest: --type needs a predicate type\n", 2;
      type = v;
    } else if (flag.is("--predicate")) {
      if (!flag.value(v) || v.empty()) return std::cerr << "kguard attest: --predicate needs a file\n", 2;
      predicate_file = v;
    } else if (flag.is("--db")) {
      if (!flag.value(v) || v.empty()) return std::cerr << "kguard attest: --db needs a database file\n", 2;
      db_path = v;
    } else if (a == "--sbom") {
      sbom = true;
    } else if (a == "--vuln") {
      vuln = true;
    } else if (a == "--replace" || a == "--replace=true") {
      replace = true;
    } else if (flag.is("--format")) {
      if (!flag.value(v) || (v != "legacy" && v != "bundle"))
        return std::cerr << "kguard attest: --format is legacy or bundle\n", 2;
      format = v == "bundle" ? kg::sign::Format::Bundle : kg::sign::Format::Legacy;
    } else if (a == "--new-bundle-format" || a == "--new-bundle-format=true") {
      format = kg::sign::Format::Bundle;
    } else if (a == "--tlog-upload=false" || a == "-y" || a == "--yes") {
    } else if (a == "--tlog-upload" || a == "--tlog-upload=true") {
      return std::cerr << "kguard attest: kguard attests offline and uploads to no transparency log (--tlog-upload=false)\n", 2;
    } else if (!a.empty() && a[0] == '-') {
      std::cerr << "kguard attest: unknown flag '" << a << "'\n" << kAttestHelp;
      return 2;
    } else if (image.empty()) {
      image = a;
    } else {
      return std::cerr << "kguard attest: one image at a time (got '" << image << "' and '" << a << "')\n", 2;
    }
  }
  int sources = (sbom ? 1 : 0) + (vuln ? 1 : 0) + (predicate_file.empty() ? 0 : 1);
  if (key.empty() || image.empty() || sources != 1) {
    std::cerr << "kguard attest: needs --key REF, IMAGE and one of --predicate FILE, --sbom, --vuln\n" << kAttestHelp;
    return 2;
  }
  if (sbom && !type.empty() && type != "cyclonedx")
    return std::cerr << "kguard attest: --sbom attests a CycloneDX SBOM (--type cyclonedx)\n", 2;
  if (vuln && !type.empty() && type != "vuln")
    return std::cerr << "kguard attest: --vuln attests cosign's vuln predicate (--type vuln)\n", 2;
  if (!db_path.empty() && !vuln) return std::cerr << "kguard attest: --db goes with --vuln\n", 2;
  if (sbom) type = "cyclonedx";
  if (vuln) type = "vuln";
  if (type.empty()) type = "custom";
  try {
    kg::sign::predicate_type_uri(type);  // a bad --type fails before any work
    auto signer = open_signer(key);
    std::string predicate, where = predicate_file;
    if (sbom || vuln) {
      // The image the attestation names, read by digest so the predicate describes that content.
      std::string pinned = kg::sign::resolve_image(image, options, false).pinned();
      std::vector<std::string> ia = {pinned, "--no-lint"};
      ia.insert(ia.end(), image_args.begin(), image_args.end());
      if (sbom) {
        ia.push_back("--no-vulns");
        predicate = run_image(ia, "cyclonedx");
        where = "kguard image -o cyclonedx " + pinned;
      } else {
        if (!db_path.empty()) ia.insert(ia.end(), {"--db", db_path});
        predicate = vuln_predicate(ia, db_path.empty() ? vuln::default_db_path() : db_path);
        where = "kguard image -o json " + pinned;
      }
    } else {
      predicate = read_sign_file(predicate_file);
    }
    auto res = kg::sign::attest_image(image, *signer, type, predicate, where, format, replace, options);
    for (const std::string& n : res.notes) std::cerr << "kguard attest: note: " << n << '\n';
    std::cerr << "kguard attest: attested " << res.image.pinned() << " (" << res.predicate_type << "; "
              << kg::sign::format_name(res.format) << ": " << res.location
              << (res.referrers_fallback ? ", referrers index tag updated" : "") << ") with " << signer->describe()
              << " (key sha256:" << signer->public_key().fingerprint() << ")\n";
    std::cout << res.image.pinned() << '\n';
  } catch (const SignError& e) {
    std::cerr << "kguard attest: " << e.what() << '\n';
    return 2;
  }
  return 0;
}

int verify_attestation_cmd(const std::string& name, const std::vector<std::string>& args) {
  std::vector<std::string> key_refs;
  std::string image, output = "text", type = "custom", policy_file;
  kg::sign::AttestationPolicy policy;
  kg::sign::VerifyOptions what;
  kg::sign::RegistryOptions options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    ArgCursor flag(args, i);
    std::string v, error;
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kVerifyAttestationHelp;
      return 0;
    }
    if (int r = registry_flag(args, i, options, error); r != 0) {
      if (r < 0) return std::cerr << name << ": " << error << '\n', 2;
      continue;
    }
    if (flag.is("--key")) {
      if (!flag.value(v) || v.empty()) return std::cerr << name << ": --key needs a public key or PKCS#11 URI\n", 2;
      key_refs.push_back(v);
    } else if (flag.is("--type") || flag.is("--attestation")) {
      if (!flag.value(v) || v.empty()) return std::cerr << name << ": --type needs a predicate type\n", 2;
      type = v;
    } else if (flag.is("--policy")) {
      if (!flag.value(v) || v.empty()) return std::cerr << name << ": --policy needs a file\n", 2;
      policy_file = v;
    } else if (flag.is("--max-severity")) {
      if (!flag.value(v)) return std::cerr << name << ": --max-severity needs a severity\n", 2;
      try {
        policy.max_severity = kg::sign::parse_policy("max-severity: " + v, "--max-severity").max_severity;
      } catch (const SignError&) {
        return std::cerr << name << ": --max-severity is low, medium, high or critical\n", 2;
      }
    } else if (flag.is("--max-age")) {
      if (!flag.value(v) || !kg::sign::parse_duration(v))
        return std::cerr << name << ": --max-age is a duration (30m, 12h, 7d, 2w)\n", 2;
      policy.max_age = kg::sign::parse_duration(v);
    } else if (a == "--require-sbom") {
      policy.require_sbom = true;
    } else if (flag.is("--format")) {
      if (!flag.value(v) || (v != "legacy" && v != "bundle" && v != "any"))
        return std::cerr << name << ": --format is legacy, bundle or any\n", 2;
      what.legacy = v != "bundle";
      what.bundle = v != "legacy";
    } else if (a == "--new-bundle-format" || a == "--new-bundle-format=true") {
      what.legacy = false;
      what.bundle = true;
    } else if (flag.is("--output", "-o")) {
      if (!flag.value(v) || (v != "text" && v != "json")) return std::cerr << name << ": -o is text or json\n", 2;
      output = v;
    } else if (a == "--insecure-ignore-tlog" || a == "--insecure-ignore-tlog=true") {
    } else if (!a.empty() && a[0] == '-') {
      std::cerr << name << ": unknown flag '" << a << "'\n" << kVerifyAttestationHelp;
      return 2;
    } else if (image.empty()) {
      image = a;
    } else {
      return std::cerr << name << ": one image at a time (got '" << image << "' and '" << a << "')\n", 2;
    }
  }
  if (key_refs.empty() || image.empty()) {
    std::cerr << name << ": needs --key REF and IMAGE\n" << kVerifyAttestationHelp;
    return 2;
  }
  kg::sign::AttestationsResult res;
  std::string type_uri;
  try {
    type_uri = kg::sign::predicate_type_uri(type);
    if (!policy_file.empty()) {
      auto ends = [&](const char* ext) {
        std::string e(ext);
        return policy_file.size() > e.size() && policy_file.compare(policy_file.size() - e.size(), e.size(), e) == 0;
      };
      if (ends(".cue") || ends(".rego"))
        throw SignError(policy_file + ": cosign's CUE and Rego policies are not read; kguard's policy is a flat YAML "
                                      "mapping (max-severity, max-age, require-sbom)");
      // The file first, the flags over it.
      kg::sign::AttestationPolicy f = kg::sign::parse_policy(read_sign_file(policy_file), policy_file);
      if (!policy.max_severity) policy.max_severity = f.max_severity;
      if (!policy.max_age) policy.max_age = f.max_age;
      policy.require_sbom = policy.require_sbom || f.require_sbom;
    }
    std::vector<kg::sign::PublicKey> keys;
    for (const std::string& r : key_refs) keys.push_back(open_public_key(r));
    std::vector<const kg::sign::PublicKey*> ptrs;
    for (const auto& k : keys) ptrs.push_back(&k);
    res = kg::sign::verify_attestations(image, ptrs, what, options);
  } catch (const SignError& e) {
    std::cerr << name << ": " << e.what() << '\n';
    return 2;
  }
  for (const std::string& n : res.notes) std::cerr << name << ": note: " << n << '\n';
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  struct Row {
    const kg::sign::Attestation* a;
    bool matches;
    std::vector<kg::sign::PolicyCheck> checks;
    bool passed;
  };
  std::vector<Row> rows;
  bool any_type = false, any_pass = false, have_sbom = false;
  for (const auto& a : res.attestations) {
    Row r{&a, a.verified && a.predicate_type == type_uri, {}, false};
    if (a.verified && (a.predicate_type == kg::sign::kPredicateCycloneDX || a.predicate_type == kg::sign::kPredicateSPDX))
      have_sbom = true;
    if (r.matches) {
      any_type = true;
      try {
        r.checks = kg::sign::check_statement(policy, a.statement, now);
      } catch (const SignError& e) {
        r.checks.push_back({"statement", false, e.what()});
      }
      r.passed = true;
      for (const auto& c : r.checks) r.passed = r.passed && c.passed;
      any_pass = any_pass || r.passed;
    }
    rows.push_back(std::move(r));
  }
  kg::sign::PolicyCheck sbom_check{"require-sbom", have_sbom,
                                   have_sbom ? "a verified CycloneDX or SPDX attestation is attached"
                                             : "no verified CycloneDX or SPDX attestation of this image"};
  bool ok = any_pass && (!policy.require_sbom || have_sbom);
  std::string verdict;
  if (!any_type) {
    verdict = "no verified attestation of type " + type_uri;
  } else if (!any_pass) {
    verdict = "no attestation of type " + type_uri + " passed the policy";
  } else if (!ok) {
    verdict = "require-sbom failed: " + sbom_check.detail;
  } else {
    verdict = "a verified attestation of type " + type_uri + " passed";
  }
  if (output == "json") {
    JsonWriter w(std::cout);
    w.begin_object();
    w.field("image", image).field("digest", res.image.digest).field("reference", res.image.pinned());
    w.field("predicateType", type_uri).field("verified", ok).field("reason", verdict);
    w.key("attestations").begin_array();
    for (const Row& r : rows) {
      w.begin_object();
      w.field("format", kg::sign::format_name(r.a->format)).field("location", r.a->location);
      w.field("predicateType", r.a->predicate_type).field("verified", r.a->verified);
      if (!r.a->key.empty()) w.field("key", "sha256:" + r.a->key);
      if (!r.a->reason.empty()) w.field("reason", r.a->reason);
      if (r.matches) {
        w.field("policyPassed", r.passed);
        w.key("checks").begin_array();
        for (const auto& c : r.checks)
          w.begin_object().field("check", c.name).field("passed", c.passed).field("detail", c.detail).end_object();
        w.end_array();
      }
      w.field("statement", r.a->statement);
      w.end_object();
    }
    w.end_array();
    if (policy.require_sbom)
      w.key("requireSbom").begin_object().field("passed", sbom_check.passed).field("detail", sbom_check.detail).end_object();
    w.end_object();
    std::cout << '\n';
  } else {
    for (const Row& r : rows) {
      std::cout << (r.a->verified ? "verified  " : "rejected  ") << kg::sign::format_name(r.a->format) << "  "
                << r.a->location << "  " << (r.a->predicate_type.empty() ? "?" : r.a->predicate_type);
      if (r.a->verified) std::cout << "  key sha256:" << r.a->key;
      else std::cout << "  " << r.a->reason;
      std::cout << '\n';
      for (const auto& c : r.checks)
        std::cout << "    " << (c.passed ? "pass  " : "FAIL  ") << c.name << ": " << c.detail << '\n';
    }
    if (policy.require_sbom)
      std::cout << (sbom_check.passed ? "pass  " : "FAIL  ") << "require-sbom: " << sbom_check.detail << '\n';
    if (res.attestations.empty()) std::cout << "no attestations found for " << res.image.pinned() << '\n';
  }
  std::cerr << name << ": " << res.image.pinned() << ": " << verdict << '\n';
  return ok ? 0 : 1;
}

}  // namespace

bool has_attestation_flag(const std::vector<std::string>& args) {
  for (const std::string& a : args)
    if (a == "--attestation" || a.rfind("--attestation=", 0) == 0) return true;
  return false;
}

int attest_command(const std::string& cmd, const std::vector<std::string>& args) {
  try {
    if (cmd == "attest") return attest_cmd(args);
    return verify_attestation_cmd("kguard " + cmd, args);
  } catch (const SignError& e) {
    std::cerr << "kguard " << cmd << ": " << e.what() << '\n';
    return 2;
  }
}

}  // namespace kg::cli
