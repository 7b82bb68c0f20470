// The KMS plugin's own gRPC stack (engines/kms/wire, engines/kms/grpc_h2): the proto3 codec on
// hand-built bytes, and the HTTP/2 server on a real UNIX socket driven by an nghttp2 client that
// sends what a gRPC client would and what none should (unknown method, compressed flag, oversized,
// truncated and doubled messages, wrong content-type, garbage instead of HTTP/2, two connections
// at once, a client that goes away in the middle of a call). Interop with the reference grpc++ is
// tests/kms/kms_test.py; with kube-apiserver's grpc-go, tests/e2e/kms_e2e.py.
#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "engines/kms/backend.hpp"
#include "engines/kms/grpc_h2.hpp"
#include "engines/kms/service.hpp"
#include "engines/kms/wire.hpp"

using namespace kg::kms;

namespace {

std::string B(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s += static_cast<char>(b);
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The codec.

TEST(KmsWire, RoundTripAndCanonicalOrder) {
  v2::DecryptRequest d;
  d.set_ciphertext(std::string("\0\1\2", 3));
  d.set_uid("uid-1");
  d.set_key_id("kid");
  (*d.mutable_annotations())["b.example.com"] = "2";
  (*d.mutable_annotations())["a.example.com"] = std::string("\0", 1);
  std::string wire = d.SerializeAsString();
  // field 1 (bytes) first, 0x0a = (1 << 3) | 2
  EXPECT_EQ(wire.substr(0, 5), B({0x0a, 3, 0, 1, 2}));
  v2::DecryptRequest back;
  ASSERT_EQ(back.parse(wire), "");
  EXPECT_EQ(back.ciphertext(), d.ciphertext());
  EXPECT_EQ(back.uid(), "uid-1");
  EXPECT_EQ(back.key_id(), "kid");
  EXPECT_EQ(back.annotations(), d.annotations());
  EXPECT_EQ(back.SerializeAsString(), wire);

  v2::EncryptResponse e;
  e.set_ciphertext("ct");
  e.set_key_id("k");
  (*e.mutable_annotations())["version.kms.kguard.dev"] = "1";
  v2::EncryptResponse e2;
  ASSERT_TRUE(e2.ParseFromString(e.SerializeAsString()));
  EXPECT_EQ(e2.annotations().at("version.kms.kguard.dev"), "1");
  // proto3: empty fields are not written; an empty message is zero bytes.
  EXPECT_EQ(v2::EncryptRequest().SerializeAsString(), "");
  EXPECT_EQ(v2::StatusResponse().SerializeAsString(), "");
}

TEST(KmsWire, SkipsUnknownFieldsOfEveryWireType) {
  std::string in = B({0x08, 0x96, 0x01});                                   // field 1 varint (known number, other type)
  in += B({0x29, 1, 2, 3, 4, 5, 6, 7, 8});                                 // field 5 fixed64
  in += B({0x35, 1, 2, 3, 4});                                             // field 6 fixed32
  in += B({0x3b, 0x08, 0x01, 0x42, 0x01, 'x', 0x3c});                      // field 7 group {varint, bytes}
  in += B({0xfa, 0x01, 0x02, 'h', 'i'});                                   // field 31 bytes
  in += B({0x12, 0x03, 'u', 'i', 'd'});                                    // uid
  in += B({0x0a, 0x02, 'p', 't'});                                         // plaintext
  v2::EncryptRequest r;
  ASSERT_EQ(r.parse(in), "");
  EXPECT_EQ(r.plaintext(), "pt");
  EXPECT_EQ(r.uid(), "uid");
  // A map entry with extra fields and missing value; the last entry of a key wins.
  std::string m = B({0x22, 0x05, 0x0a, 0x01, 'k', 0x18, 0x07}) + B({0x22, 0x06, 0x0a, 0x01, 'k', 0x12, 0x01, 'v'}) +
                  B({0x22, 0x03, 0x0a, 0x01, 'j'});
  v2::DecryptRequest d;
  ASSERT_EQ(d.parse(m), "");
  EXPECT_EQ(d.annotations().at("k"), "v");
  EXPECT_EQ(d.annotations().at("j"), "");
}

TEST(KmsWire, RefusesTruncatedOverlongAndInvalid) {
  auto why = [](const std::string& in) {
    v2::DecryptRequest d;
    return d.parse(in);
  };
  EXPECT_NE(why(B({0x0a, 0x05, 'a'})).find("runs past the end"), std::string::npos);
  EXPECT_NE(why(B({0x0a})).find("truncated varint"), std::string::npos);
  EXPECT_NE(why(B({0x08, 0x80})).find("truncated varint"), std::string::npos);
  EXPECT_NE(why(B({0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02})).find("longer than 64 bits"),
            std::string::npos);
  EXPECT_NE(why(B({0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00})).find("varint"),
            std::string::npos);
  EXPECT_NE(why(B({0x0e, 0x00})).find("wire type 6"), std::string::npos);
  EXPECT_NE(why(B({0x02, 0x00})).find("field number 0"), std::string::npos);
  EXPECT_NE(why(B({0x0c})).find("not started"), std::string::npos);            // end group alone
  EXPECT_NE(why(B({0x0b, 0x08, 0x01})).find("unterminated group"), std::string::npos);
  EXPECT_NE(why(B({0x0b, 0x14})).find("another field number"), std::string::npos);
  EXPECT_NE(why(B({0x29, 1, 2, 3})).find("truncated fixed"), std::string::npos);
  EXPECT_NE(why(B({0x12, 0x02, 0xc3, 0x28})).find("UTF-8"), std::string::npos);  // uid
  EXPECT_NE(why(B({0x22, 0x04, 0x0a, 0x02, 0xed, 0xa0})).find("UTF-8"), std::string::npos);  // map key
  EXPECT_NE(why(B({0x22, 0x03, 0x0a, 0x05, 'k'})).find("annotations entry"), std::string::npos);
  // bytes fields take anything
  EXPECT_EQ(why(B({0x0a, 0x02, 0xff, 0xfe})), "");
  // groups nested deeper than 64
  std::string deep;
  for (int i = 0; i < 70; ++i) deep += B({0x3b});
  EXPECT_NE(why(deep).find("too deep"), std::string::npos);
  // a field after an error is not read: the message is cleared first
  v2::DecryptRequest d;
  d.set_uid("old");
  ASSERT_EQ(d.parse(""), "");
  EXPECT_EQ(d.uid(), "");
}

TEST(KmsWire, Utf8) {
  EXPECT_TRUE(is_utf8("plain"));
  EXPECT_TRUE(is_utf8("\xe4\xb8\xad\xf0\x9f\x94\x91"));
  EXPECT_FALSE(is_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_utf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(is_utf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(is_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_utf8("\xe4\xb8"));          // truncated
}

TEST(KmsWire, PercentEncodedMessage) {
  EXPECT_EQ(grpc_percent_encode("key 50% \xe4\xb8\xad\n"), "key 50%25 %E4%B8%AD%0A");
}

// ---------------------------------------------------------------------------------------------
// The HTTP/2 server.

namespace {

std::string frame(std::string_view msg, unsigned char flag = 0, std::size_t declared = std::string::npos) {
  std::size_t n = declared == std::string::npos ? msg.size() : declared;
  std::string out(1, static_cast<char>(flag));
  for (int i = 3; i >= 0; --i) out += static_cast<char>((n >> (8 * i)) & 0xff);
  return out + std::string(msg);
}

// An HTTP/2 client over the UNIX socket with nghttp2, one blocking thread.
class H2Client {
 public:
  struct Reply {
    std::map<std::string, std::string> headers, trailers;
    std::string data;
    bool closed = false;
    std::uint32_t error = 0;  // RST_STREAM / GOAWAY code
    std::string status() const {  // grpc-status, from the trailers or a Trailers-Only answer
      auto t = trailers.find("grpc-status");
      if (t != trailers.end()) return t->second;
      auto h = headers.find("grpc-status");
      return h == headers.end() ? "" : h->second;
    }
    std::string message() const {
      auto t = trailers.find("grpc-message");
      if (t != trailers.end()) return t->second;
      auto h = headers.find("grpc-message");
      return h == headers.end() ? "" : h->second;
    }
  };

  explicit H2Client(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("connect: " + path);
    nghttp2_session_callbacks* cb = nullptr;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_header_callback(cb, &H2Client::on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, &H2Client::on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, &H2Client::on_close);
    nghttp2_session_client_new(&s_, cb, this);
    nghttp2_session_callbacks_del(cb);
    nghttp2_submit_settings(s_, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  ~H2Client() {
    nghttp2_session_del(s_);
    if (fd_ >= 0) ::close(fd_);
  }
  void close() {
    ::close(fd_);
    fd_ = -1;
  }

  // A request; `hold` keeps the body's end unsent (the DATA provider defers after sending body).
  std::int32_t start(const std::string& path, std::string body, const std::string& content_type = "application/grpc",
                     bool hold = false, const std::string& extra_value = "") {
    auto p = std::make_unique<Body>();
    p->data = std::move(body);
    p->hold = hold;
    std::string m = "POST", sch = "http", auth = "localhost", te = "trailers";
    std::string k1 = ":method", k2 = ":scheme", k3 = ":authority", k4 = ":path", k5 = "content-type", k6 = "te";
    std::string k7 = "x-extra";
    nghttp2_nv h[] = {nv(k1, m), nv(k2, sch), nv(k3, auth), nv(k4, path), nv(k5, content_type), nv(k6, te), nv(k7, extra_value)};
    nghttp2_data_provider dp{};
    dp.source.ptr = p.get();
    dp.read_callback = &H2Client::read_body;
    std::int32_t id = nghttp2_submit_request(s_, nullptr, h, extra_value.empty() ? 6 : 7, &dp, nullptr);
    bodies_[id] = std::move(p);
    pump(0);
    return id;
  }
  // Runs the connection until stream `id` closes or `ms` pass.
  Reply wait(std::int32_t id, int ms = 5000) {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!replies_[id].closed && !dead_ && std::chrono::steady_clock::now() < until) pump(50);
    return replies_[id];
  }
  Reply call(const std::string& path, std::string body, const std::string& ct = "application/grpc") {
    return wait(start(path, std::move(body), ct));
  }
  bool dead() const { return dead_; }
  // Reads until the server closes the connection (true) or `ms` pass (false).
  bool wait_closed(int ms) {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!dead_ && std::chrono::steady_clock::now() < until) pump(50);
    return dead_;
  }
  void send_raw(std::string_view bytes) { ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size())); }

 private:
  struct Body {
    std::string data;
    std::size_t off = 0;
    bool hold = false;
  };
  static nghttp2_nv nv(const std::string& k, const std::string& v) {
    return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(k.data())),
            reinterpret_cast<std::uint8_t*>(const_cast<char*>(v.data())), k.size(), v.size(), NGHTTP2_NV_FLAG_NONE};
  }
  void pump(int poll_ms) {
    if (dead_) return;
    for (;;) {
      const std::uint8_t* d = nullptr;
      ssize_t n = nghttp2_session_mem_send(s_, &d);
      if (n <= 0) break;
      if (::send(fd_, d, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) {
        dead_ = true;
        return;
      }
    }
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, poll_ms) <= 0) return;
    char buf[16384];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      dead_ = true;
      return;
    }
    if (nghttp2_session_mem_recv(s_, reinterpret_cast<std::uint8_t*>(buf), static_cast<std::size_t>(n)) < 0) dead_ = true;
  }
  static ssize_t read_body(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t len, std::uint32_t* flags,
                           nghttp2_data_source* src, void*) {
    auto* b = static_cast<Body*>(src->ptr);
    std::size_t n = std::min(len, b->data.size() - b->off);
    if (n == 0 && b->hold) return NGHTTP2_ERR_DEFERRED;
    std::memcpy(buf, b->data.data() + b->off, n);
    b->off += n;
    if (b->off == b->data.size() && !b->hold) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
  static int on_header(nghttp2_session*, const nghttp2_frame* f, const std::uint8_t* name, std::size_t namelen,
                       const std::uint8_t* value, std::size_t valuelen, std::uint8_t, void* user) {
    auto* c = static_cast<H2Client*>(user);
    Reply& r = c->replies_[f->hd.stream_id];
    std::string k(reinterpret_cast<const char*>(name), namelen), v(reinterpret_cast<const char*>(value), valuelen);
    (f->headers.cat == NGHTTP2_HCAT_HEADERS ? r.trailers : r.headers)[k] = v;
    return 0;
  }
  static int on_data(nghttp2_session*, std::uint8_t, std::int32_t id, const std::uint8_t* data, std::size_t len, void* user) {
    static_cast<H2Client*>(user)->replies_[id].data.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }
  static int on_close(nghttp2_session*, std::int32_t id, std::uint32_t code, void* user) {
    Reply& r = static_cast<H2Client*>(user)->replies_[id];
    r.closed = true;
    r.error = code;
    return 0;
  }

  int fd_ = -1;
  nghttp2_session* s_ = nullptr;
  bool dead_ = false;
  std::map<std::int32_t, std::unique_ptr<Body>> bodies_;
  std::map<std::int32_t, Reply> replies_;
};

// A KMS service over the memory backend behind the gRPC server, plus two test methods:
// /test.Slow/Pair answers once two Pair calls are in flight at the same time (5 s at most, then
// DEADLINE_EXCEEDED), /test.Slow/Gate waits until the test opens the gate.
struct Server {
  Server(GrpcLimits lim = {}) {
    dir = std::filesystem::temp_directory_path() / ("kguard-kms-grpc-" + std::to_string(::getpid()) + "-" +
                                                    std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    std::filesystem::create_directories(dir);
    path = (dir / "kms.sock").string();
    auto b = memory_backend();
    KmsState state;
    KeyVersion k;
    k.version = 1;
    k.key_id = "kguard-kms:memory:v1:000000";
    k.cipher = Cipher::Aes256Gcm;
    b->create(k);
    state.versions.push_back(k);
    state.current = 1;
    state.backend = "memory:";
    svc = std::make_unique<KmsService>(std::move(b), state);
    server = std::make_unique<GrpcUnixServer>(
        path,
        [this](std::string_view p, std::string_view msg, RpcStatus& st) -> std::string {
          if (p == "/test.Slow/Pair") {
            std::unique_lock l(mu);
            ++pair_in;
            cv.notify_all();
            if (!cv.wait_for(l, std::chrono::seconds(5), [&] { return pair_in >= 2; }))
              st = RpcStatus(StatusCode::DEADLINE_EXCEEDED, "alone");
            return "";
          }
          if (p == "/test.Slow/Gate") {
            std::unique_lock l(mu);
            ++gate_in;
            cv.notify_all();
            cv.wait_for(l, std::chrono::seconds(10), [&] { return gate_open; });
            ++gate_out;
            cv.notify_all();
            return "gate";
          }
          constexpr std::string_view svc_prefix = "/v2.KeyManagementService/";
          if (p.substr(0, svc_prefix.size()) != svc_prefix) {
            st = RpcStatus(StatusCode::UNIMPLEMENTED, "unknown service");
            return "";
          }
          return handle_raw(*svc, p.substr(svc_prefix.size()), msg, st);
        },
        2, lim);
  }
  ~Server() {
    open_gate();
    server.reset();
    std::filesystem::remove_all(dir);
  }
  void open_gate() {
    std::lock_guard l(mu);
    gate_open = true;
    cv.notify_all();
  }
  bool wait_gate_in(int n) {
    std::unique_lock l(mu);
    return cv.wait_for(l, std::chrono::seconds(5), [&] { return gate_in >= n; });
  }
  bool wait_gate_out(int n) {
    std::unique_lock l(mu);
    return cv.wait_for(l, std::chrono::seconds(5), [&] { return gate_out >= n; });
  }

  std::filesystem::path dir;
  std::string path;
  std::unique_ptr<KmsService> svc;
  std::mutex mu;
  std::condition_variable cv;
  int pair_in = 0, gate_in = 0, gate_out = 0;
  bool gate_open = false;
  std::unique_ptr<GrpcUnixServer> server;
};

}  // namespace

TEST(KmsGrpcServer, UnaryCallsAndSocketMode) {
  Server s;
  struct stat st{};
  ASSERT_EQ(::stat(s.path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  H2Client c(s.path);
  auto r = c.call("/v2.KeyManagementService/Status", frame(""));
  ASSERT_TRUE(r.closed);
  EXPECT_EQ(r.headers[":status"], "200");
  EXPECT_EQ(r.headers["content-type"], "application/grpc");
  EXPECT_EQ(r.status(), "0");
  ASSERT_GE(r.data.size(), 5u);
  EXPECT_EQ(r.data[0], 0);
  v2::StatusResponse sr;
  ASSERT_EQ(sr.parse(std::string_view(r.data).substr(5)), "");
  EXPECT_EQ(sr.healthz(), "ok");
  EXPECT_EQ(sr.version(), "v2");

  v2::EncryptRequest er;
  er.set_plaintext(std::string(32, 'd'));
  er.set_uid("u1");
  r = c.call("/v2.KeyManagementService/Encrypt", frame(er.SerializeAsString()), "application/grpc+proto");
  ASSERT_EQ(r.status(), "0") << r.message();
  v2::EncryptResponse eresp;
  ASSERT_EQ(eresp.parse(std::string_view(r.data).substr(5)), "");
  v2::DecryptRequest dr;
  dr.set_ciphertext(eresp.ciphertext());
  dr.set_key_id(eresp.key_id());
  *dr.mutable_annotations() = eresp.annotations();
  r = c.call("/v2.KeyManagementService/Decrypt", frame(dr.SerializeAsString()));
  ASSERT_EQ(r.status(), "0") << r.message();
  v2::DecryptResponse back;
  ASSERT_EQ(back.parse(std::string_view(r.data).substr(5)), "");
  EXPECT_EQ(back.plaintext(), std::string(32, 'd'));

  // A refusal of the service travels as grpc-status + grpc-message, no DATA.
  dr.set_key_id("kguard-kms:memory:v9:000000");
  r = c.call("/v2.KeyManagementService/Decrypt", frame(dr.SerializeAsString()));
  EXPECT_EQ(r.status(), "5");
  EXPECT_NE(r.message().find("is not a KEK version"), std::string::npos) << r.message();
  EXPECT_TRUE(r.data.empty());
}

TEST(KmsGrpcServer, RefusalsOfTheTransport) {
  Server s;
  H2Client c(s.path);
  auto r = c.call("/v2.KeyManagementService/Rotate", frame(""));
  EXPECT_EQ(r.status(), "12");
  r = c.call("/other.Service/Status", frame(""));
  EXPECT_EQ(r.status(), "12");
  r = c.call("/v2.KeyManagementService/Status", frame("", 1));
  EXPECT_EQ(r.status(), "12");
  EXPECT_NE(r.message().find("compressed"), std::string::npos) << r.message();
  r = c.call("/v2.KeyManagementService/Status", frame("", 2));
  EXPECT_EQ(r.status(), "13");
  // Oversized: the declared length alone, and a body that really is that long.
  r = c.call("/v2.KeyManagementService/Encrypt", frame("", 0, 64 * 1024 + 1));
  EXPECT_EQ(r.status(), "8");
  r = c.call("/v2.KeyManagementService/Encrypt", frame(std::string(200 * 1024, 'x')));
  EXPECT_EQ(r.status(), "8");
  EXPECT_NE(r.message().find("limit"), std::string::npos) << r.message();
  // No message, a truncated one, two of them, malformed protobuf.
  r = c.call("/v2.KeyManagementService/Status", "");
  EXPECT_EQ(r.status(), "13");
  r = c.call("/v2.KeyManagementService/Status", frame("abc", 0, 10));
  EXPECT_EQ(r.status(), "13");
  EXPECT_NE(r.message().find("truncated"), std::string::npos);
  r = c.call("/v2.KeyManagementService/Status", frame("") + frame(""));
  EXPECT_EQ(r.status(), "13");
  r = c.call("/v2.KeyManagementService/Decrypt", frame(B({0x0a, 0x7f, 0x00})));
  EXPECT_EQ(r.status(), "13");
  EXPECT_NE(r.message().find("malformed"), std::string::npos) << r.message();
  // Not gRPC at all.
  r = c.call("/v2.KeyManagementService/Status", frame(""), "application/json");
  EXPECT_EQ(r.headers[":status"], "415");
  // A header list above the limit (16 KiB): that stream is reset, nothing else.
  r = c.wait(c.start("/v2.KeyManagementService/Status", frame(""), "application/grpc", false, std::string(20000, 'h')));
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(r.error, static_cast<std::uint32_t>(NGHTTP2_INTERNAL_ERROR));  // RST_STREAM from the server's limit
  EXPECT_EQ(r.status(), "");
  // After all that, the same connection still serves.
  r = c.call("/v2.KeyManagementService/Status", frame(""));
  EXPECT_EQ(r.status(), "0");
  EXPECT_FALSE(c.dead());
}

TEST(KmsGrpcServer, TwoConnectionsAtOnce) {
  Server s;
  H2Client a(s.path), b(s.path);
  std::int32_t ia = a.start("/test.Slow/Pair", frame(""));
  std::int32_t ib = b.start("/test.Slow/Pair", frame(""));
  H2Client::Reply rb;
  std::thread t([&] { rb = b.wait(ib, 8000); });
  auto ra = a.wait(ia, 8000);
  t.join();
  EXPECT_EQ(ra.status(), "0") << ra.message();
  EXPECT_EQ(rb.status(), "0") << rb.message();
  // And two calls on one connection run at once too (the API server multiplexes on one).
  H2Client c(s.path);
  {
    std::lock_guard l(s.mu);
    s.pair_in = 0;
  }
  std::int32_t i1 = c.start("/test.Slow/Pair", frame(""));
  std::int32_t i2 = c.start("/test.Slow/Pair", frame(""));
  EXPECT_EQ(c.wait(i1, 8000).status(), "0");
  EXPECT_EQ(c.wait(i2, 8000).status(), "0");
}

TEST(KmsGrpcServer, ClientGoingAwayMidCall) {
  Server s;
  {
    // Gone while its call runs: the answer has nowhere to go.
    H2Client c(s.path);
    c.start("/test.Slow/Gate", frame(""));
    ASSERT_TRUE(s.wait_gate_in(1));
    c.close();
  }
  {
    // Gone in the middle of its request body.
    H2Client c(s.path);
    c.start("/v2.KeyManagementService/Encrypt", frame(std::string(10, 'x'), 0, 40), "application/grpc", true);
    c.close();
  }
  s.open_gate();
  ASSERT_TRUE(s.wait_gate_out(1));
  H2Client c(s.path);
  EXPECT_EQ(c.call("/v2.KeyManagementService/Status", frame("")).status(), "0");
}

TEST(KmsGrpcServer, HostileBytesEndOnlyThatConnection) {
  Server s;
  {
    H2Client c(s.path);
    c.send_raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n");  // after nghttp2's preface: not a frame
    EXPECT_TRUE(c.wait_closed(5000));
  }
  {
    H2Client c(s.path);
    // A DATA frame on stream 0 (connection error PROTOCOL_ERROR).
    c.send_raw(B({0, 0, 1, 0, 0, 0, 0, 0, 0, 'x'}));
    EXPECT_TRUE(c.wait_closed(5000));
  }
  H2Client c(s.path);
  EXPECT_EQ(c.call("/v2.KeyManagementService/Status", frame("")).status(), "0");
}

TEST(KmsGrpcServer, ConnectionLimitAndStopWithCallsInFlight) {
  GrpcLimits lim;
  lim.max_connections = 2;
  Server s(lim);
  H2Client a(s.path), b(s.path);
  EXPECT_EQ(a.call("/v2.KeyManagementService/Status", frame("")).status(), "0");
  EXPECT_EQ(b.call("/v2.KeyManagementService/Status", frame("")).status(), "0");
  H2Client extra(s.path);
  EXPECT_TRUE(extra.wait_closed(5000));
  // A call in flight when the server stops finishes (GOAWAY, then its answer).
  std::int32_t id = a.start("/test.Slow/Gate", frame(""));
  ASSERT_TRUE(s.wait_gate_in(1));
  std::thread stopper([&] { s.server->stop(std::chrono::seconds(5)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  s.open_gate();
  auto r = a.wait(id, 5000);
  stopper.join();
  EXPECT_EQ(r.status(), "0");
  EXPECT_EQ(r.data.substr(5), "gate");
}
