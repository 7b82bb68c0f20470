// In-process signing and verification throughput of engines/sign (bench/results/signing.md):
// the engine's Signer::sign and PublicKey::verify called in a loop over the payload `kguard sign`
// signs (a simple-signing payload of a pinned image), for each key given:
//
//   sign_throughput [--key-file cosign.key]... [--pkcs11 URI]... [--seconds S] [--rounds N]
//
// A key file's password comes from COSIGN_PASSWORD, as for kguard sign; loading it (scrypt) is
// timed on its own. Each round signs for S seconds, then verifies for S seconds; the best round of
// N is reported (the machine is shared: the best round is the least disturbed one), with the CPU
// time of the process (SoftHSM2 runs inside it) beside the wall time. One JSON object per key on
// stdout. Every signature made is checked once by the public key before timing starts.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "engines/sign/formats.hpp"
#include "engines/sign/keys.hpp"
#include "engines/sign/pkcs11.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

struct Loop {
  double per_second = 0;   // operations per wall second
  double cpu_us_per_op = 0;
  long ops = 0;
};

// Runs op() for `seconds` (checking the clock every few calls), the best of `rounds`.
template <typename F>
Loop best_of(int rounds, double seconds, F&& op) {
  Loop best;
  for (int r = 0; r < rounds; ++r) {
    const auto start = Clock::now();
    const double cpu0 = cpu_seconds();
    long n = 0;
    double elapsed = 0;
    do {
      for (int i = 0; i < 8; ++i) op();
      n += 8;
      elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (elapsed < seconds);
    Loop l;
    l.ops = n;
    l.per_second = static_cast<double>(n) / elapsed;
    l.cpu_us_per_op = (cpu_seconds() - cpu0) * 1e6 / static_cast<double>(n);
    if (l.per_second > best.per_second) best = l;
  }
  return best;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "sign_throughput: cannot read %s\n", path.c_str());
    std::exit(2);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void run(kg::sign::Signer& signer, const std::string& label, double load_wall, double load_cpu, int rounds,
         double seconds) {
  const std::string digest = "sha256:" + std::string(64, 'b');
  const std::string payload = kg::sign::simple_signing_payload("127.0.0.1:5000/bench/app", digest);
  const kg::sign::PublicKey& pub = signer.public_key();
  std::string sig = signer.sign(payload);
  if (!pub.verify(payload, sig)) {
    std::fprintf(stderr, "sign_throughput: %s: a signature did not verify\n", label.c_str());
    std::exit(1);
  }
  Loop s = best_of(rounds, seconds, [&] { sig = signer.sign(payload); });
  if (!pub.verify(payload, sig)) std::exit(1);
  bool ok = true;
  Loop v = best_of(rounds, seconds, [&] { ok = pub.verify(payload, sig) && ok; });
  if (!ok) std::exit(1);
  std::printf(
      "{\"key\":\"%s\",\"algorithm\":\"%s\",\"load_ms\":%.1f,\"load_cpu_ms\":%.1f,\"sign_per_s\":%.0f,"
      "\"sign_cpu_us\":%.1f,\"sign_ops\":%ld,\"verify_per_s\":%.0f,\"verify_cpu_us\":%.1f,\"verify_ops\":%ld,"
      "\"payload_bytes\":%zu,\"peak_rss_kib\":%ld}\n",
      label.c_str(), pub.algorithm() == kg::sign::KeyAlgorithm::Ed25519 ? "ed25519" : "ecdsa-p256", load_wall * 1e3,
      load_cpu * 1e3, s.per_second, s.cpu_us_per_op, s.ops, v.per_second, v.cpu_us_per_op, v.ops, payload.size(),
      peak_rss_kib());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> files, uris;
  double seconds = 2;
  int rounds = 3;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "sign_throughput: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--key-file") files.push_back(next());
    else if (a == "--pkcs11") uris.push_back(next());
    else if (a == "--seconds") seconds = std::atof(next().c_str());
    else if (a == "--rounds") rounds = std::atoi(next().c_str());
    else {
      std::fprintf(stderr, "usage: sign_throughput [--key-file F]... [--pkcs11 URI]... [--seconds S] [--rounds N]\n");
      return 2;
    }
  }
  if (seconds <= 0 || rounds <= 0) return 2;
  const char* pw = std::getenv("COSIGN_PASSWORD");
  try {
    for (const std::string& f : files) {
      const std::string pem = read_file(f);
      const auto t0 = Clock::now();
      const double c0 = cpu_seconds();
      auto signer = kg::sign::load_private_key(pem, pw ? pw : "", f);
      run(*signer, f, std::chrono::duration<double>(Clock::now() - t0).count(), cpu_seconds() - c0, rounds, seconds);
    }
    for (const std::string& u : uris) {
      const auto t0 = Clock::now();
      const double c0 = cpu_seconds();
      auto signer = kg::sign::open_pkcs11_signer(u, [] { return std::string(); });
      run(*signer, kg::sign::redact_pkcs11_uri(u), std::chrono::duration<double>(Clock::now() - t0).count(),
          cpu_seconds() - c0, rounds, seconds);
    }
  } catch (const kg::sign::SignError& e) {
    std::fprintf(stderr, "sign_throughput: %s\n", e.what());
    return 1;
  }
  return 0;
}
