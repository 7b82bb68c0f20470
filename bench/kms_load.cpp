// Open-loop load for kguard kms serve (bench/run_kms_bench.py): requests are started on a fixed
// schedule (RATE per second) whatever the answers do, over the gRPC callback API on one channel, and
// each latency is measured from its scheduled start (no coordinated omission). Prints one JSON line.
//   kms_load SOCKET encrypt|decrypt RATE SECONDS
//   kms_load SOCKET encrypt|decrypt max CONCURRENCY SECONDS   (closed loop: the throughput ceiling)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <kms_v2.grpc.pb.h>

namespace {

using Clock = std::chrono::steady_clock;

struct Results {
  std::mutex mu;
  std::vector<double> lat_ms;
  std::uint64_t errors = 0;
  std::string first_error;
  void add(double ms, const grpc::Status& st) {
    std::lock_guard<std::mutex> l(mu);
    if (st.ok()) lat_ms.push_back(ms);
    else {
      ++errors;
      if (first_error.empty()) first_error = st.error_message();
    }
  }
};

double pct(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::size_t i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

struct Call {
  grpc::ClientContext ctx;
  v2::EncryptRequest ereq;
  v2::EncryptResponse eresp;
  v2::DecryptRequest dreq;
  v2::DecryptResponse dresp;
  Clock::time_point scheduled;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::cerr << "usage: kms_load SOCKET encrypt|decrypt RATE SECONDS | max CONCURRENCY SECONDS\n";
    return 2;
  }
  std::string sock = argv[1], op = argv[2];
  bool closed = std::string(argv[3]) == "max";
  double rate = closed ? 0 : std::atof(argv[3]);
  int conc = closed ? std::atoi(argv[4]) : 0;
  double secs = std::atof(argv[closed ? 5 : 4]);
  if ((op != "encrypt" && op != "decrypt") || secs <= 0 || (!closed && rate <= 0) || (closed && (conc <= 0 || argc < 6))) {
    std::cerr << "kms_load: bad arguments\n";
    return 2;
  }
  grpc::ChannelArguments args;
  auto channel = grpc::CreateCustomChannel("unix://" + sock, grpc::InsecureChannelCredentials(), args);
  auto stub = v2::KeyManagementService::NewStub(channel);
  // One ciphertext to decrypt over and over (the API server decrypts a seed once per 24 h; this is the
  // plugin's ceiling, not a pattern it will see).
  std::string seed(32, 's'), ct, key_id;
  std::map<std::string, std::string> ann;
  {
    grpc::ClientContext c;
    v2::EncryptRequest r;
    r.set_plaintext(seed);
    v2::EncryptResponse resp;
    grpc::Status st = stub->Encrypt(&c, r, &resp);
    if (!st.ok()) {
      std::cerr << "kms_load: first Encrypt failed: " << st.error_message() << "\n";
      return 1;
    }
    ct = resp.ciphertext();
    key_id = resp.key_id();
    for (const auto& [k, v] : resp.annotations()) ann[k] = v;
  }
  Results res;
  std::atomic<std::int64_t> inflight{0};
  auto start_call = [&](Clock::time_point scheduled, std::function<void()> then) {
    auto* c = new Call;
    c->scheduled = scheduled;
    c->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    inflight.fetch_add(1);
    auto done = [&, c, then](grpc::Status st) {
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - c->scheduled).count();
      res.add(ms, st);
      delete c;
      inflight.fetch_sub(1);
      if (then) then();
    };
    if (op == "encrypt") {
      c->ereq.set_plaintext(seed);
      c->ereq.set_uid("bench");
      stub->async()->Encrypt(&c->ctx, &c->ereq, &c->eresp, done);
    } else {
      c->dreq.set_ciphertext(ct);
      c->dreq.set_key_id(key_id);
      c->dreq.set_uid("bench");
      for (const auto& [k, v] : ann) (*c->dreq.mutable_annotations())[k] = v;
      stub->async()->Decrypt(&c->ctx, &c->dreq, &c->dresp, done);
    }
  };
  auto t0 = Clock::now();
  auto end = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(secs));
  std::uint64_t sent = 0;
  if (!closed) {
    auto interval = std::chrono::duration<double>(1.0 / rate);
    for (;;) {
      auto at = t0 + std::chrono::duration_cast<Clock::duration>(interval * static_cast<double>(sent));
      if (at >= end) break;
      std::this_thread::sleep_until(at);
      start_call(at, nullptr);
      ++sent;
    }
  } else {
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> started{0};
    std::function<void()> next;
    next = [&]() {
      if (stop.load() || Clock::now() >= end) return;
      started.fetch_add(1);
      start_call(Clock::now(), next);
    };
    for (int i = 0; i < conc; ++i) next();
    std::this_thread::sleep_until(end);
    stop.store(true);
    sent = started.load();
  }
  while (inflight.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  std::sort(res.lat_ms.begin(), res.lat_ms.end());
  std::printf("{\"op\":\"%s\",\"mode\":\"%s\",\"target_rate\":%.0f,\"concurrency\":%d,\"seconds\":%.1f,\"sent\":%llu,"
              "\"ok\":%zu,\"errors\":%llu,\"throughput\":%.1f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,"
              "\"max_ms\":%.3f,\"first_error\":\"%s\"}\n",
              op.c_str(), closed ? "closed" : "open", rate, conc, wall, static_cast<unsigned long long>(sent),
              res.lat_ms.size(), static_cast<unsigned long long>(res.errors),
              static_cast<double>(res.lat_ms.size()) / wall, pct(res.lat_ms, 0.5), pct(res.lat_ms, 0.9),
              pct(res.lat_ms, 0.99), res.lat_ms.empty() ? 0 : res.lat_ms.back(),
              res.first_error.substr(0, 80).c_str());
  return res.errors ? 1 : 0;
}
