// Allowed connections as per-protocol port interval sets (TCP, UDP, SCTP;
// ports 1-65535), the way netpol-analyzer models them: a rule, a tier's
// verdict and a pair's connectivity are all ConnSets, combined by union,
// intersection and difference.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kg::netpol {

enum class Protocol : std::uint8_t { TCP, UDP, SCTP };
constexpr std::array<Protocol, 3> kProtocols = {Protocol::TCP, Protocol::UDP, Protocol::SCTP};
std::string_view to_string(Protocol p);
// "TCP"/"tcp" → TCP; false for anything else.
bool parse_protocol(std::string_view s, Protocol& out);

constexpr std::uint32_t kMinPort = 1;
constexpr std::uint32_t kMaxPort = 65535;

// Disjoint, sorted, non-adjacent inclusive intervals of ports.
class PortSet {
 public:
  using Interval = std::pair<std::uint32_t, std::uint32_t>;
  static PortSet all() { return PortSet({{kMinPort, kMaxPort}}); }
  static PortSet range(std::uint32_t lo, std::uint32_t hi);  // clamped to 1-65535
  PortSet() = default;

  bool empty() const { return iv_.empty(); }
  bool is_all() const { return iv_.size() == 1 && iv_[0].first == kMinPort && iv_[0].second == kMaxPort; }
  bool contains(std::uint32_t port) const;
  const std::vector<Interval>& intervals() const { return iv_; }
  PortSet operator|(const PortSet& o) const;
  PortSet operator&(const PortSet& o) const;
  PortSet operator-(const PortSet& o) const;
  bool operator==(const PortSet& o) const { return iv_ == o.iv_; }
  // "53,80,8000-8080"; "" when empty.
  std::string str() const;

 private:
  explicit PortSet(std::vector<Interval> iv) : iv_(std::move(iv)) {}
  std::vector<Interval> iv_;
};

struct ConnSet {
  std::array<PortSet, 3> by_proto;  // indexed by Protocol

  static ConnSet all() { return {{PortSet::all(), PortSet::all(), PortSet::all()}}; }
  static ConnSet none() { return {}; }
  static ConnSet of(Protocol p, PortSet ports) {
    ConnSet c;
    c[p] = std::move(ports);
    return c;
  }
  PortSet& operator[](Protocol p) { return by_proto[static_cast<std::size_t>(p)]; }
  const PortSet& operator[](Protocol p) const { return by_proto[static_cast<std::size_t>(p)]; }
  bool empty() const { return by_proto[0].empty() && by_proto[1].empty() && by_proto[2].empty(); }
  bool is_all() const { return by_proto[0].is_all() && by_proto[1].is_all() && by_proto[2].is_all(); }
  ConnSet operator|(const ConnSet& o) const;
  ConnSet operator&(const ConnSet& o) const;
  ConnSet operator-(const ConnSet& o) const;
  bool operator==(const ConnSet& o) const { return by_proto == o.by_proto; }
  // netpol-analyzer's notation: "All Connections", "No Connections", or
  // "SCTP 1-65535,TCP 80,UDP 53" (protocols in alphabetical order).
  std::string analyzer_str() const;
  // "TCP 80,UDP 53" style without the "All Connections" shortcut, kguard's text.
  std::string str() const;
  std::string key() const;  // a compact identity for interning
};

}  // namespace kg::netpol
