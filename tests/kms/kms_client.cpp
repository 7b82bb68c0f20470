// A KMS v2 client for the tests (tests/kms/kms_test.py): calls kguard kms serve over its UNIX socket
// the way kube-apiserver does and prints each answer as one JSON line.
//   kms_client SOCKET status
//   kms_client SOCKET encrypt PLAINTEXT_HEX [UID]
//   kms_client SOCKET decrypt KEY_ID CIPHERTEXT_HEX [ANNOTATION=VALUE_HEX...]
//   kms_client SOCKET raw METHOD REQUEST_HEX|-    (any bytes as the request message: malformed protobuf;
//                                                 - reads the hex from stdin)
#include <chrono>
#include <cstdio>
#include <future>
#include <iterator>
#include <iostream>
#include <map>
#include <string>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <kms_v2.grpc.pb.h>

namespace {

std::string hex(const std::string& s) {
  static constexpr char k[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += k[c >> 4];
    out += k[c & 15];
  }
  return out;
}

bool unhex(const std::string& h, std::string& out) {
  if (h.size() % 2) return false;
  out.clear();
  for (std::size_t i = 0; i < h.size(); i += 2) {
    unsigned v = 0;
    if (std::sscanf(h.c_str() + i, "%2x", &v) != 1) return false;
    out += static_cast<char>(v);
  }
  return true;
}

std::string q(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
      continue;
    }
    out += c;
  }
  return out + "\"";
}

int print_error(const grpc::Status& st) {
  std::cout << "{\"code\":" << static_cast<int>(st.error_code()) << ",\"error\":" << q(st.error_message()) << "}\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: kms_client SOCKET status|encrypt|decrypt|raw ...\n";
    return 2;
  }
  std::string target = std::string("unix://") + argv[1], cmd = argv[2];
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  auto stub = v2::KeyManagementService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (cmd == "status") {
    v2::StatusResponse resp;
    grpc::Status st = stub->Status(&ctx, v2::StatusRequest(), &resp);
    if (!st.ok()) return print_error(st);
    std::cout << "{\"code\":0,\"version\":" << q(resp.version()) << ",\"healthz\":" << q(resp.healthz())
              << ",\"key_id\":" << q(resp.key_id()) << "}\n";
    return 0;
  }
  if (cmd == "encrypt" && argc >= 4) {
    v2::EncryptRequest req;
    std::string pt;
    if (!unhex(argv[3], pt)) return 2;
    req.set_plaintext(pt);
    req.set_uid(argc >= 5 ? argv[4] : "test-uid");
    v2::EncryptResponse resp;
    grpc::Status st = stub->Encrypt(&ctx, req, &resp);
    if (!st.ok()) return print_error(st);
    std::cout << "{\"code\":0,\"ciphertext\":" << q(hex(resp.ciphertext())) << ",\"key_id\":" << q(resp.key_id())
              << ",\"annotations\":{";
    std::map<std::string, std::string> sorted(resp.annotations().begin(), resp.annotations().end());
    bool first = true;
    for (const auto& [k, v] : sorted) {
      std::cout << (first ? "" : ",") << q(k) << ":" << q(hex(v));
      first = false;
    }
    std::cout << "}}\n";
    return 0;
  }
  if (cmd == "decrypt" && argc >= 5) {
    v2::DecryptRequest req;
    std::string ct;
    if (!unhex(argv[4], ct)) return 2;
    req.set_key_id(argv[3]);
    req.set_ciphertext(ct);
    req.set_uid("test-uid");
    for (int i = 5; i < argc; ++i) {
      std::string a = argv[i], v;
      std::size_t eq = a.find('=');
      if (eq == std::string::npos || !unhex(a.substr(eq + 1), v)) return 2;
      (*req.mutable_annotations())[a.substr(0, eq)] = v;
    }
    v2::DecryptResponse resp;
    grpc::Status st = stub->Decrypt(&ctx, req, &resp);
    if (!st.ok()) return print_error(st);
    std::cout << "{\"code\":0,\"plaintext\":" << q(hex(resp.plaintext())) << "}\n";
    return 0;
  }
  if (cmd == "raw" && argc >= 5) {
    std::string body, text = argv[4];
    if (text == "-") text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (!unhex(text, body)) return 2;
    grpc::GenericStub generic(channel);
    grpc::Slice slice(body);
    grpc::ByteBuffer request(&slice, 1), response;
    std::promise<grpc::Status> done;
    generic.UnaryCall(&ctx, std::string("/v2.KeyManagementService/") + argv[3], grpc::StubOptions(), &request,
                      &response, [&](grpc::Status st) { done.set_value(st); });
    grpc::Status st = done.get_future().get();
    if (!st.ok()) return print_error(st);
    std::vector<grpc::Slice> slices;
    (void)response.Dump(&slices);
    std::string out;
    for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
    std::cout << "{\"code\":0,\"response\":" << q(hex(out)) << "}\n";
    return 0;
  }
  std::cerr << "usage: kms_client SOCKET status|encrypt|decrypt|raw ...\n";
  return 2;
}
