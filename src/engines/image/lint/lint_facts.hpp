// What the hardening lint needs to know about an image's files, gathered in
// the one streaming walk: a Cataloger that reads a few small files as they
// pass (/etc/passwd, /etc/shadow, files whose names say they hold keys or
// credentials, up to a small size) and judges the final filesystem's paths
// and modes (FinalTree). It keeps only the facts, never the file list, so an
// image of millions of paths costs no second index.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engines/image/cataloger.hpp"

namespace kg::image {

// One file the lint reports on.
struct FileFact {
  std::string path;
  std::string name;    // what it is: a tool's name, a user, a secret's kind, a cache's ecosystem
  std::string detail;  // mode (octal), "3 files, 1.2 MiB", the users sharing a UID…
  std::size_t layer = 0;  // the layer that added it (index into ImageInventory::layers)
  bool removed = false;   // deleted by a later layer, but still stored in `layer`
};

struct LintFacts {
  std::vector<FileFact> setid;             // setuid and setgid files (name: setuid, setgid, setuid and setgid)
  std::vector<FileFact> world_writable;    // in a PATH directory (or the directory itself)
  std::vector<FileFact> package_managers;  // dpkg, apt, apk, rpm, dnf, yum, pip, npm…
  std::vector<FileFact> network_tools;     // curl, wget, nc, socat, telnet, ssh, nmap, tcpdump…
  std::vector<FileFact> shells;            // /bin/sh and friends (a minimal base has none)
  std::vector<FileFact> secrets;           // private keys, cloud credentials, .env…
  std::vector<FileFact> package_caches;    // one per cache directory, with its files and bytes
  std::vector<FileFact> empty_passwords;   // accounts without a password (/etc/shadow, /etc/passwd)
  std::vector<FileFact> duplicate_uids;    // /etc/passwd UIDs held by several accounts
  std::vector<std::string> path_dirs;      // the PATH the facts were judged with
  std::size_t dropped = 0;                 // facts past a list's cap (kMaxFacts each)
};

// Each list keeps at most this many facts; the rest are counted in `dropped`.
inline constexpr std::size_t kMaxFacts = 200;

// PATH of the image config's Env, else the default container runtimes set.
std::vector<std::string> path_dirs_of(std::string_view config_json);

// /etc/shadow (or /etc/passwd) text: the accounts whose password field is
// empty (a login without a password). `passwd`: the second field "" means no
// password there too ("x" or "*" point elsewhere or lock it).
std::vector<std::string> empty_password_accounts(std::string_view text);
// /etc/passwd text: each UID held by more than one account, with the accounts.
std::vector<std::pair<std::string, std::vector<std::string>>> duplicate_uids(std::string_view passwd);
// The kind of secret a small file holds, judged by its path and content
// ("private key", "AWS credentials", ".env file"…); "" when none.
std::string secret_kind(std::string_view path, std::string_view content);
// Whether `path` is worth reading for secret_kind (a name that says so).
bool secret_candidate(std::string_view path);

class LintCataloger final : public Cataloger {
 public:
  std::string_view name() const override { return "lint"; }
  std::unique_ptr<FileReader> open(const FileEntry& file) override;
  void final_tree(const FinalTree& tree) override;
  void finish(const Survives& survives, const OsInfo& os, std::vector<Package>& out) override;
  const LintFacts& facts() const { return facts_; }

  // What a FileReader kept: the first bytes of one file of one layer.
  void keep(std::string path, std::size_t layer, std::string content);

 private:
  LintFacts facts_;
  std::map<std::pair<std::string, std::size_t>, std::string> texts_;  // (path, layer) → bytes read
};

}  // namespace kg::image
