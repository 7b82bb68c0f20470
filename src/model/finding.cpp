#include "model/finding.hpp"

#include <algorithm>
#include <functional>

namespace kg {

std::string_view to_string(Result r) {
  switch (r) {
    case Result::Fail: return "fail";
    case Result::Pass: return "pass";
    case Result::Exempt: return "exempt";
  }
  return "fail";
}

bool RuleInfo::has_tag(std::string_view t) const {
  return std::find(tags.begin(), tags.end(), t) != tags.end();
}

}  // namespace kg

namespace kg {

FindingView::FindingView(const Finding& f)
    : rule(f.rule),
      result(f.result),
      kind(f.kind),
      ns(f.ns),
      name(f.name),
      container(f.container),
      subject(f.subject),
      message(f.message),
      location{f.location.file, f.location.line, f.location.column, f.location.path},
      exemption_reason(f.exemption_reason),
      exemption_until(f.exemption_until),
      exemption_in_source(f.exemption_in_source),
      object(f.object) {}

Finding FindingView::to_finding() const {
  Finding f;
  f.rule = rule;
  f.result = result;
  f.kind = kind;
  f.ns = ns;
  f.name = name;
  f.container = container;
  f.subject = subject;
  f.message = message;
  f.location.file = location.file;
  f.location.line = location.line;
  f.location.column = location.column;
  f.location.path = location.path;
  f.exemption_reason = exemption_reason;
  f.exemption_until = exemption_until;
  f.exemption_in_source = exemption_in_source;
  f.object = object;
  return f;
}

namespace {

// Open addressing over ids (slot = id + 1, 0 = empty): 4-8 bytes per entry
// where a node-based map takes about 50.
class IdIndex {
 public:
  // The id of the entry equal to the one `eq` recognises, hashed `h`, or the
  // one `make` appends.
  template <class Eq, class Hash, class Make>
  std::uint32_t find_or_add(std::size_t h, Eq&& eq, Hash&& hash_of, Make&& make) {
    if ((count_ + 1) * 2 > slots_.size()) grow(hash_of);
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t at = h & mask;; at = (at + 1) & mask) {
      const std::uint32_t s = slots_[at];
      if (s == 0) {
        const std::uint32_t id = make();
        slots_[at] = id + 1;
        ++count_;
        return id;
      }
      if (eq(s - 1)) return s - 1;
    }
  }
  void clear() {
    slots_.clear();
    count_ = 0;
  }

 private:
  template <class Hash>
  void grow(Hash&& hash_of) {
    std::vector<std::uint32_t> old = std::move(slots_);
    slots_.assign(old.empty() ? 64 : old.size() * 2, 0);
    const std::size_t mask = slots_.size() - 1;
    for (std::uint32_t s : old) {
      if (s == 0) continue;
      std::size_t at = hash_of(s - 1) & mask;
      while (slots_[at] != 0) at = (at + 1) & mask;
      slots_[at] = s;
    }
  }
  std::vector<std::uint32_t> slots_;
  std::size_t count_ = 0;
};

std::size_t mix(std::size_t h, std::uint32_t v) {
  return (h ^ v) * 0x9E3779B97F4A7C15ull + (h >> 29);
}

std::uint32_t narrow(std::size_t n) {
  // More than 4 billion distinct strings or findings cannot be reached within
  // the input limits (--max-file-size); saturate rather than wrap.
  return n > UINT32_MAX ? UINT32_MAX : static_cast<std::uint32_t>(n);
}

}  // namespace

struct FindingStore::Pool {
  // Text lives in 64 KiB blocks (longer strings in their own): views stay
  // valid as the pool grows.
  std::vector<std::unique_ptr<char[]>> blocks;
  std::size_t block_used = 0, block_size = 0;
  std::vector<std::string_view> strings{std::string_view{}};  // id 0 = ""
  IdIndex string_index;
  std::vector<Subject> subjects;
  IdIndex subject_index;
  std::vector<Extra> extras{Extra{0, 0, 0, 0}};  // id 0 = none
  IdIndex extra_index;
  std::vector<const RuleInfo*> rules;
  // The last subject added: consecutive findings are mostly of one object.
  std::uint32_t last_subject = UINT32_MAX;

  std::string_view store(std::string_view s) {
    constexpr std::size_t kBlock = std::size_t{64} * 1024;
    if (s.size() > kBlock / 4) {
      blocks.push_back(std::make_unique<char[]>(s.size()));
      std::copy(s.begin(), s.end(), blocks.back().get());
      std::string_view v(blocks.back().get(), s.size());
      // Keep filling the current block: move the big one below it.
      if (blocks.size() >= 2) std::swap(blocks[blocks.size() - 1], blocks[blocks.size() - 2]);
      return v;
    }
    if (block_size - block_used < s.size()) {
      blocks.push_back(std::make_unique<char[]>(kBlock));
      block_used = 0;
      block_size = kBlock;
    }
    char* at = blocks.back().get() + block_used;
    std::copy(s.begin(), s.end(), at);
    block_used += s.size();
    return {at, s.size()};
  }

  std::uint32_t intern(std::string_view s) {
    if (s.empty()) return 0;
    return string_index.find_or_add(
        std::hash<std::string_view>{}(s), [&](std::uint32_t id) { return strings[id] == s; },
        [&](std::uint32_t id) { return std::hash<std::string_view>{}(strings[id]); },
        [&] {
          strings.push_back(store(s));
          return narrow(strings.size() - 1);
        });
  }

  // The object index is left out of the hash (an identity defined twice is
  // rare), so append() can shift every object without rehashing.
  static std::size_t hash(const Subject& s) { return mix(mix(mix(mix(0, s.kind), s.ns), s.name), s.file); }
  std::uint32_t intern(const Subject& x) {
    return subject_index.find_or_add(
        hash(x),
        [&](std::uint32_t id) {
          const Subject& y = subjects[id];
          return y.kind == x.kind && y.ns == x.ns && y.name == x.name && y.file == x.file && y.object == x.object;
        },
        [&](std::uint32_t id) { return hash(subjects[id]); },
        [&] {
          subjects.push_back(x);
          return narrow(subjects.size() - 1);
        });
  }

  static std::size_t hash(const Extra& e) {
    return mix(mix(mix(mix(0, e.container), e.free_subject), e.reason), e.until);
  }
  std::uint32_t intern(const Extra& x) {
    if (x.container == 0 && x.free_subject == 0 && x.reason == 0 && x.until == 0) return 0;
    return extra_index.find_or_add(
        hash(x),
        [&](std::uint32_t id) {
          const Extra& y = extras[id];
          return y.container == x.container && y.free_subject == x.free_subject && y.reason == x.reason &&
                 y.until == x.until;
        },
        [&](std::uint32_t id) { return hash(extras[id]); },
        [&] {
          extras.push_back(x);
          return narrow(extras.size() - 1);
        });
  }

  std::uint32_t rule(const RuleInfo* r) {
    // A result holds a few hundred rules at most: a scan from the back finds
    // the rule of the previous finding at once.
    for (std::size_t i = rules.size(); i-- > 0;)
      if (rules[i] == r) return narrow(i);
    rules.push_back(r);
    return narrow(rules.size() - 1);
  }

  std::uint32_t subject_of(const FindingView& f) {
    if (last_subject != UINT32_MAX) {
      const Subject& s = subjects[last_subject];
      if (s.object == f.object && strings[s.kind] == f.kind && strings[s.ns] == f.ns &&
          strings[s.name] == f.name && strings[s.file] == f.location.file)
        return last_subject;
    }
    last_subject = intern(
        Subject{intern(f.kind), intern(f.ns), intern(f.name), intern(f.location.file), narrow(f.object)});
    return last_subject;
  }
};

FindingStore::FindingStore() : pool_(std::make_unique<Pool>()) {}
FindingStore::~FindingStore() = default;
FindingStore::FindingStore(FindingStore&&) noexcept = default;
FindingStore& FindingStore::operator=(FindingStore&&) noexcept = default;

void FindingStore::clear() {
  records_.clear();
  pool_ = std::make_unique<Pool>();
}

namespace {
constexpr std::uint32_t kFlagBits = 3;
}  // namespace

std::size_t FindingStore::object_of(std::size_t i) const { return pool_->subjects[records_[i].subject].object; }

FindingView FindingStore::operator[](std::size_t i) const {
  const Record& r = records_[i];
  const Pool& p = *pool_;
  const Subject& s = p.subjects[r.subject];
  const Extra& e = p.extras[r.extra];
  FindingView v;
  v.rule = p.rules[r.rule_flags >> kFlagBits];
  v.result = static_cast<Result>(r.rule_flags & 3u);
  v.kind = p.strings[s.kind];
  v.ns = p.strings[s.ns];
  v.name = p.strings[s.name];
  v.container = p.strings[e.container];
  v.subject = p.strings[e.free_subject];
  v.message = p.strings[r.message];
  v.location = {p.strings[s.file], r.line, r.column, p.strings[r.path]};
  v.exemption_reason = p.strings[e.reason];
  v.exemption_until = p.strings[e.until];
  v.exemption_in_source = (r.rule_flags & 4u) != 0;
  v.object = s.object;
  return v;
}

void FindingStore::push_back(const FindingView& f) {
  Pool& p = *pool_;
  Record r{};
  // Rule indices are a few hundred: 29 bits are plenty.
  r.rule_flags = (p.rule(f.rule) << kFlagBits) | (f.exemption_in_source ? 4u : 0u) |
                 static_cast<std::uint32_t>(f.result);
  r.subject = p.subject_of(f);
  r.extra = p.intern(Extra{p.intern(f.container), p.intern(f.subject), p.intern(f.exemption_reason),
                           p.intern(f.exemption_until)});
  r.message = p.intern(f.message);
  r.path = p.intern(f.location.path);
  r.line = f.location.line;
  r.column = f.location.column;
  records_.push_back(r);
}

void FindingStore::append(FindingStore&& other, std::size_t object_offset) {
  const std::uint32_t offset = narrow(object_offset);
  if (records_.empty()) {
    records_ = std::move(other.records_);
    pool_ = std::move(other.pool_);
    other.pool_ = std::make_unique<Pool>();
    for (Subject& s : pool_->subjects) s.object += offset;  // not hashed: the index stays valid
    other.records_.clear();
    return;
  }
  Pool& p = *pool_;
  const Pool& o = *other.pool_;
  // Each distinct text, subject and extra of `other` is interned once here.
  std::vector<std::uint32_t> text(o.strings.size());
  for (std::size_t i = 0; i < o.strings.size(); ++i) text[i] = p.intern(o.strings[i]);
  std::vector<std::uint32_t> subject(o.subjects.size());
  for (std::size_t i = 0; i < o.subjects.size(); ++i) {
    const Subject& s = o.subjects[i];
    subject[i] = p.intern(Subject{text[s.kind], text[s.ns], text[s.name], text[s.file], s.object + offset});
  }
  std::vector<std::uint32_t> extra(o.extras.size());
  for (std::size_t i = 0; i < o.extras.size(); ++i) {
    const Extra& e = o.extras[i];
    extra[i] = p.intern(Extra{text[e.container], text[e.free_subject], text[e.reason], text[e.until]});
  }
  std::vector<std::uint32_t> rule(o.rules.size());
  for (std::size_t i = 0; i < o.rules.size(); ++i) rule[i] = p.rule(o.rules[i]);
  while (!other.records_.empty()) {
    Record r = other.records_.front();
    other.records_.pop_front();  // frees each block as it is copied
    r.rule_flags = (rule[r.rule_flags >> kFlagBits] << kFlagBits) | (r.rule_flags & ((1u << kFlagBits) - 1));
    r.subject = subject[r.subject];
    r.extra = extra[r.extra];
    r.message = text[r.message];
    r.path = text[r.path];
    records_.push_back(r);
  }
  other.clear();
}

void FindingStore::keep(const std::vector<bool>& keep) {
  std::size_t out = 0;
  for (std::size_t i = 0; i < records_.size(); ++i)
    if (i < keep.size() && keep[i]) records_[out++] = records_[i];
  records_.resize(out);
}

void FindingStore::permute(std::vector<std::uint32_t> order) {
  // In place, cycle by cycle: no second copy of the records.
  for (std::uint32_t start = 0; start < order.size(); ++start) {
    if (order[start] == start) continue;
    const Record held = records_[start];
    std::uint32_t at = start;
    while (order[at] != start) {
      const std::uint32_t from = order[at];
      records_[at] = records_[from];
      order[at] = at;
      at = from;
    }
    records_[at] = held;
    order[at] = at;
  }
}

void order_findings(FindingStore& findings) {
  // Input order; within one resource failures first, the most severe first.
  // Each finding's sort key is packed once with its position (a tie-break that
  // keeps the order stable): object, result rank, severity, position.
  auto rank = [](Result res) -> std::uint64_t { return res == Result::Fail ? 0 : res == Result::Exempt ? 1 : 2; };
  constexpr std::size_t kPositionBits = 28;
  std::size_t objects = 0;
  for (std::size_t i = 0; i < findings.size(); ++i) objects = std::max(objects, findings.object_of(i) + 1);
  if (findings.size() < (std::size_t{1} << kPositionBits) && objects < (std::size_t{1} << 32)) {
    std::vector<std::uint64_t> keys(findings.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const FindingView f = findings[i];
      keys[i] = (static_cast<std::uint64_t>(f.object) << 32) | (rank(f.result) << 30) |
                ((3 - static_cast<std::uint64_t>(f.rule->severity)) << kPositionBits) | i;
    }
    std::sort(keys.begin(), keys.end());
    std::vector<std::uint32_t> order(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i)
      order[i] = static_cast<std::uint32_t>(keys[i] & ((std::uint64_t{1} << kPositionBits) - 1));
    std::vector<std::uint64_t>().swap(keys);
    findings.permute(std::move(order));
  } else {
    std::vector<std::uint32_t> order(findings.size());
    for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::uint32_t ia, std::uint32_t ib) {
      const FindingView a = findings[ia];
      const FindingView b = findings[ib];
      if (a.object != b.object) return a.object < b.object;
      if (a.result != b.result) return rank(a.result) < rank(b.result);
      return a.rule->severity > b.rule->severity;
    });
    findings.permute(std::move(order));
  }
}

}  // namespace kg
