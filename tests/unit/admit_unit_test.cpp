// The admission engine's pure parts: PSA label semantics, version parsing,
// durations and the HTTP parser's edge cases. The webhook itself is tested
// through the binary (tests/integration/admit_test.py).
#include <gtest/gtest.h>

#include "engines/admit/admit.hpp"
#include "server/http_parser.hpp"
#include "server/server.hpp"

namespace kg {
namespace {

using admit::AdmitConfig;
using admit::policy_for_labels;

TEST(AdmitPolicy, PsaVersionParsing) {
  EXPECT_EQ(admit::parse_psa_version("latest", PssLevel::Baseline)->display(), "baseline:latest");
  EXPECT_EQ(admit::parse_psa_version("v1.25", PssLevel::Restricted)->minor, 25);
  EXPECT_EQ(admit::parse_psa_version("v1.999", PssLevel::Restricted)->minor, kLatestPssMinor);
  EXPECT_EQ(admit::parse_psa_version("v1.99999999999999999999", PssLevel::Restricted)->minor,
            kLatestPssMinor);
  for (const char* bad : {"v1.01", "v2.0", "1.25", "v1.", "v1.-1", "v1.2x", "", "Latest"})
    EXPECT_FALSE(admit::parse_psa_version(bad, PssLevel::Baseline)) << bad;
}

TEST(AdmitPolicy, PolicyToEvaluateSemantics) {
  AdmitConfig cfg;
  cfg.profiles["hardened"] = {};
  // Nothing set: privileged everywhere.
  auto p = policy_for_labels({}, cfg);
  EXPECT_EQ(p.enforce.display(), "privileged:latest");
  // warn inherits an explicit, stricter enforce (level and version).
  p = policy_for_labels({{"pod-security.kubernetes.io/enforce", "baseline"},
                         {"pod-security.kubernetes.io/enforce-version", "v1.20"}}, cfg);
  EXPECT_EQ(p.warn.display(), "baseline:v1.20");
  EXPECT_EQ(p.audit.display(), "privileged:latest");
  // ...but not when warn is set explicitly.
  p = policy_for_labels({{"pod-security.kubernetes.io/enforce", "restricted"},
                         {"pod-security.kubernetes.io/warn", "baseline"}}, cfg);
  EXPECT_EQ(p.warn.display(), "baseline:latest");
  // Invalid enforce fails closed, invalid audit/warn open.
  p = policy_for_labels({{"pod-security.kubernetes.io/enforce", "bogus"},
                         {"pod-security.kubernetes.io/audit", "bogus"},
                         {"pod-security.kubernetes.io/warn", "bogus"}}, cfg);
  EXPECT_EQ(p.enforce.display(), "restricted:latest");
  EXPECT_TRUE(p.enforce_invalid);
  EXPECT_EQ(p.audit.level, PssLevel::Privileged);
  EXPECT_EQ(p.warn.level, PssLevel::Privileged);
  EXPECT_EQ(p.errors.size(), 3u);
  p = policy_for_labels({{"pod-security.kubernetes.io/enforce", "baseline"},
                         {"pod-security.kubernetes.io/enforce-version", "v1.x"}}, cfg);
  EXPECT_EQ(p.enforce.display(), "baseline:latest");
  EXPECT_TRUE(p.enforce_invalid);
  // kguard profiles: unknown enforce is kept (evaluated as every rule), warn inherits.
  p = policy_for_labels({{"kguard.io/enforce", "hardened"}}, cfg);
  EXPECT_EQ(p.kguard_warn, "hardened");
  p = policy_for_labels({{"kguard.io/enforce", "nope"}, {"kguard.io/audit", "nope"}}, cfg);
  EXPECT_EQ(p.kguard_enforce, "nope");
  EXPECT_TRUE(p.kguard_audit.empty());
  EXPECT_TRUE(p.enforce_invalid);
  // Config defaults apply where labels are absent.
  cfg.default_labels = {{"enforce", "baseline"}, {"warn", "restricted"}, {"warn-version", "v1.30"}};
  p = policy_for_labels({}, cfg);
  EXPECT_EQ(p.enforce.display(), "baseline:latest");
  EXPECT_EQ(p.warn.display(), "restricted:v1.30");
}

TEST(AdmitServer, Durations) {
  EXPECT_DOUBLE_EQ(server::parse_duration_ms("10s"), 10000);
  EXPECT_DOUBLE_EQ(server::parse_duration_ms("1m30s"), 90000);
  EXPECT_DOUBLE_EQ(server::parse_duration_ms("250ms"), 250);
  EXPECT_DOUBLE_EQ(server::parse_duration_ms("1us"), 0.001);
  EXPECT_DOUBLE_EQ(server::parse_duration_ms("2"), 2000);
  for (const char* bad : {"", "s", "10x", "-1s", "1e3s", "10 s"}) EXPECT_LT(server::parse_duration_ms(bad), 0) << bad;
}

server::ParseResult parse(std::string_view text, server::HttpRequest& req) {
  std::size_t scanned = 0;
  return server::parse_request_head(text, scanned, server::HttpLimits{}, req);
}

TEST(AdmitServer, HttpParser) {
  server::HttpRequest req;
  auto r = parse("POST /validate?timeout=10s&x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", req);
  ASSERT_EQ(r.status, server::ParseStatus::Done);
  EXPECT_EQ(req.path, "/validate");
  EXPECT_EQ(req.query_param("timeout"), "10s");
  EXPECT_EQ(req.query_param("x"), "1");
  EXPECT_EQ(req.content_length, 5u);
  EXPECT_TRUE(req.keep_alive);
  EXPECT_EQ(parse("GET / HTTP/1.0\r\n\r\n", req).status, server::ParseStatus::Done);
  EXPECT_FALSE(req.keep_alive);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", req).status,
            server::ParseStatus::Done);
  EXPECT_FALSE(req.keep_alive);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\n", req).status, server::ParseStatus::NeedMore);
  struct Case {
    const char* text;
    int status;
  };
  for (const Case& c : {Case{"GET / HTTP/1.1\r\n\r\n", 400},  // no Host
                        Case{"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", 400},
                        Case{"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
                        Case{"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
                        Case{"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3145729\r\n\r\n", 413},
                        Case{"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
                        Case{"GET http://x/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
                        Case{"GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505},
                        Case{"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},
                        Case{"GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", 417},
                        Case{"\x16\x03\x01\x02\x00\x01", 400}}) {
    r = parse(c.text, req);
    EXPECT_EQ(r.status, server::ParseStatus::Error) << c.text;
    EXPECT_EQ(r.error_status, c.status) << c.text;
    EXPECT_FALSE(r.error.empty());
  }
  std::string big = "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(20000, 'a');
  EXPECT_EQ(parse(big, req).error_status, 431);
}

}  // namespace
}  // namespace kg
