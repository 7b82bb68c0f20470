#include "engines/netpol/conn.hpp"

#include <algorithm>

namespace kg::netpol {

std::string_view to_string(Protocol p) {
  switch (p) {
    case Protocol::TCP: return "TCP";
    case Protocol::UDP: return "UDP";
    case Protocol::SCTP: return "SCTP";
  }
  return "TCP";
}

bool parse_protocol(std::string_view s, Protocol& out) {
  std::string up(s);
  for (char& c : up) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  if (up == "TCP") out = Protocol::TCP;
  else if (up == "UDP") out = Protocol::UDP;
  else if (up == "SCTP") out = Protocol::SCTP;
  else return false;
  return true;
}

PortSet PortSet::range(std::uint32_t lo, std::uint32_t hi) {
  lo = std::max(lo, kMinPort);
  hi = std::min(hi, kMaxPort);
  if (lo > hi) return {};
  return PortSet({{lo, hi}});
}

bool PortSet::contains(std::uint32_t port) const {
  for (const auto& [lo, hi] : iv_)
    if (port >= lo && port <= hi) return true;
  return false;
}

PortSet PortSet::operator|(const PortSet& o) const {
  if (o.iv_.empty()) return *this;
  if (iv_.empty()) return o;
  std::vector<Interval> all;
  all.reserve(iv_.size() + o.iv_.size());
  std::merge(iv_.begin(), iv_.end(), o.iv_.begin(), o.iv_.end(), std::back_inserter(all));
  std::vector<Interval> out;
  for (const Interval& i : all) {
    if (!out.empty() && i.first <= out.back().second + 1) out.back().second = std::max(out.back().second, i.second);
    else out.push_back(i);
  }
  return PortSet(std::move(out));
}

PortSet PortSet::operator&(const PortSet& o) const {
  std::vector<Interval> out;
  std::size_t a = 0, b = 0;
  while (a < iv_.size() && b < o.iv_.size()) {
    std::uint32_t lo = std::max(iv_[a].first, o.iv_[b].first);
    std::uint32_t hi = std::min(iv_[a].second, o.iv_[b].second);
    if (lo <= hi) out.emplace_back(lo, hi);
    if (iv_[a].second < o.iv_[b].second) ++a;
    else ++b;
  }
  return PortSet(std::move(out));
}

PortSet PortSet::operator-(const PortSet& o) const {
  std::vector<Interval> out;
  std::size_t b = 0;
  for (Interval cur : iv_) {
    while (b < o.iv_.size() && o.iv_[b].second < cur.first) ++b;
    std::size_t k = b;
    bool alive = true;
    while (k < o.iv_.size() && o.iv_[k].first <= cur.second) {
      if (o.iv_[k].first > cur.first) out.emplace_back(cur.first, o.iv_[k].first - 1);
      if (o.iv_[k].second >= cur.second) {
        alive = false;
        break;
      }
      cur.first = o.iv_[k].second + 1;
      ++k;
    }
    if (alive) out.push_back(cur);
  }
  return PortSet(std::move(out));
}

std::string PortSet::str() const {
  std::string s;
  for (const auto& [lo, hi] : iv_) {
    if (!s.empty()) s += ',';
    s += std::to_string(lo);
    if (hi != lo) s += '-' + std::to_string(hi);
  }
  return s;
}

ConnSet ConnSet::operator|(const ConnSet& o) const {
  ConnSet c;
  for (std::size_t i = 0; i < 3; ++i) c.by_proto[i] = by_proto[i] | o.by_proto[i];
  return c;
}
ConnSet ConnSet::operator&(const ConnSet& o) const {
  ConnSet c;
  for (std::size_t i = 0; i < 3; ++i) c.by_proto[i] = by_proto[i] & o.by_proto[i];
  return c;
}
ConnSet ConnSet::operator-(const ConnSet& o) const {
  ConnSet c;
  for (std::size_t i = 0; i < 3; ++i) c.by_proto[i] = by_proto[i] - o.by_proto[i];
  return c;
}

std::string ConnSet::str() const {
  std::string s;
  for (Protocol p : kProtocols) {
    if ((*this)[p].empty()) continue;
    if (!s.empty()) s += ',';
    s += std::string(to_string(p)) + ' ' + (*this)[p].str();
  }
  return s.empty() ? "No Connections" : s;
}

std::string ConnSet::analyzer_str() const {
  if (is_all()) return "All Connections";
  if (empty()) return "No Connections";
  std::string s;
  for (Protocol p : {Protocol::SCTP, Protocol::TCP, Protocol::UDP}) {
    if ((*this)[p].empty()) continue;
    if (!s.empty()) s += ',';
    s += std::string(to_string(p)) + ' ' + (*this)[p].str();
  }
  return s;
}

std::string ConnSet::key() const {
  std::string k;
  for (const PortSet& ps : by_proto) {
    for (const auto& [lo, hi] : ps.intervals()) {
      k.append(reinterpret_cast<const char*>(&lo), sizeof lo);
      k.append(reinterpret_cast<const char*>(&hi), sizeof hi);
    }
    k += '|';
  }
  return k;
}

}  // namespace kg::netpol
