#include "checks/regex_prefilter.hpp"

#include <algorithm>
#include <optional>

namespace kg {
namespace {

using ByteSet = RegexPrefilter::ByteSet;
using Run = RegexPrefilter::Run;

// Fixed repetitions longer than this are cut: a shorter run is still required.
constexpr std::size_t kMaxRepeat = 16;

bool is_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

ByteSet range(unsigned char lo, unsigned char hi) {
  ByteSet s;
  for (unsigned c = lo; c <= hi; ++c) s.set(c);
  return s;
}

// The sets std::regex gives \d, \w and \s in the classic locale; their
// negations also take every non-ASCII byte, which keeps them wide enough.
ByteSet digits() { return range('0', '9'); }
ByteSet word() { return range('0', '9') | range('a', 'z') | range('A', 'Z') | range('_', '_'); }
ByteSet space() {
  ByteSet s;
  for (unsigned char c : {' ', '\t', '\n', '\v', '\f', '\r'}) s.set(c);
  return s;
}

ByteSet case_closed(ByteSet s) {
  for (unsigned c = 'a'; c <= 'z'; ++c) {
    const unsigned upper = c - 'a' + 'A';
    if (s[c] || s[upper]) {
      s.set(c);
      s.set(upper);
    }
  }
  return s;
}

// What every match must contain, in disjunctive normal form: every run of
// one of the conjunctions. No conjunction = no requirement.
using Conjunction = std::vector<Run>;
struct Requirement {
  std::vector<Conjunction> any_of;
  bool none() const { return any_of.empty(); }
};

// Products of alternations are cut here (dropping a required part only makes
// the prefilter weaker, never wrong).
constexpr std::size_t kMaxConjunctions = 32;
constexpr std::size_t kMaxDepth = 32;  // nested groups

class Analyzer {
 public:
  Analyzer(std::string_view p, bool icase) : p_(p), icase_(icase) {}

  std::optional<Requirement> run() {
    Requirement r = alternation();
    if (failed_ || i_ != p_.size()) return std::nullopt;
    return r;
  }

 private:
  // alternation := sequence ('|' sequence)*; every branch must have a requirement.
  Requirement alternation() {
    Requirement all = sequence();
    bool unconstrained = all.none();
    while (!failed_ && i_ < p_.size() && p_[i_] == '|') {
      ++i_;
      Requirement r = sequence();
      if (r.none()) unconstrained = true;
      for (Conjunction& c : r.any_of) all.any_of.push_back(std::move(c));
    }
    if (unconstrained || all.any_of.size() > kMaxConjunctions) return {};
    return all;
  }

  struct Quantifier {
    std::size_t min = 1;
    std::size_t max = 1;  // SIZE_MAX = unbounded
  };

  std::optional<Quantifier> quantifier() {
    if (i_ >= p_.size()) return std::nullopt;
    Quantifier q;
    switch (p_[i_]) {
      case '*': q = {0, SIZE_MAX}; ++i_; break;
      case '+': q = {1, SIZE_MAX}; ++i_; break;
      case '?': q = {0, 1}; ++i_; break;
      case '{': {
        ++i_;
        auto number = [&](std::size_t& out) {
          const std::size_t start = i_;
          out = 0;
          while (i_ < p_.size() && is_digit(static_cast<unsigned char>(p_[i_])) && i_ - start < 6)
            out = out * 10 + static_cast<std::size_t>(p_[i_++] - '0');
          return i_ > start;
        };
        if (!number(q.min)) return fail();
        q.max = q.min;
        if (i_ < p_.size() && p_[i_] == ',') {
          ++i_;
          if (!number(q.max)) q.max = SIZE_MAX;
        }
        if (i_ >= p_.size() || p_[i_] != '}') return fail();
        ++i_;
        break;
      }
      default: return std::nullopt;
    }
    if (i_ < p_.size() && p_[i_] == '?') ++i_;  // lazy: same bounds
    return q;
  }

  std::nullopt_t fail() {
    failed_ = true;
    return std::nullopt;
  }

  ByteSet literal(unsigned char c) const {
    ByteSet s;
    s.set(c);
    return icase_ ? case_closed(s) : s;
  }

  // An escape outside or inside a class (after the backslash). Returns false
  // for zero-width escapes (\b, \B outside a class); fails on anything it does
  // not know (backreferences, \x, \u, \c, \b inside a class…).
  bool escape(bool in_class, ByteSet& out) {
    if (i_ >= p_.size()) return fail(), false;
    const unsigned char e = static_cast<unsigned char>(p_[i_++]);
    switch (e) {
      case 'd': out = digits(); return true;
      case 'D': out = ~digits(); return true;
      case 'w': out = word(); return true;
      case 'W': out = ~word(); return true;
      case 's': out = space(); return true;
      case 'S': out = ~space(); return true;
      case 'n': out = literal('\n'); return true;
      case 'r': out = literal('\r'); return true;
      case 't': out = literal('\t'); return true;
      case 'f': out = literal('\f'); return true;
      case 'v': out = literal('\v'); return true;
      case 'b':
      case 'B':
        if (in_class) return fail(), false;
        return false;
      default:
        if (is_alpha(e) || is_digit(e) || e >= 0x80) return fail(), false;
        out = literal(e);
        return true;
    }
  }

  // [...] after the '['.
  ByteSet bracket() {
    ByteSet set;
    bool negate = false;
    if (i_ < p_.size() && p_[i_] == '^') {
      negate = true;
      ++i_;
    }
    if (i_ >= p_.size() || p_[i_] == ']') return fail(), set;  // [] and []...] edge cases
    // One class atom: a single byte (returned) or a set (added to `set`).
    auto atom = [&](std::optional<unsigned char>& single) {
      single.reset();
      const unsigned char c = static_cast<unsigned char>(p_[i_]);
      if (c == '[' && i_ + 1 < p_.size() &&
          (p_[i_ + 1] == ':' || p_[i_ + 1] == '.' || p_[i_ + 1] == '=')) {
        fail();  // POSIX classes, collating elements
        return;
      }
      if (c != '\\') {
        single = c;
        ++i_;
        return;
      }
      ++i_;
      ByteSet s;
      if (!escape(true, s)) return;
      if (s.count() == 1) {  // one escaped byte (\- \] \. \n …) can start a range
        for (unsigned b = 0; b < 256; ++b)
          if (s[b]) single = static_cast<unsigned char>(b);
        return;
      }
      single.reset();
      set |= s;
    };
    while (!failed_) {
      if (i_ >= p_.size()) return fail(), set;
      if (p_[i_] == ']') {
        ++i_;
        break;
      }
      std::optional<unsigned char> lo;
      atom(lo);
      if (failed_) return set;
      if (!lo) continue;
      if (i_ + 1 < p_.size() && p_[i_] == '-' && p_[i_ + 1] != ']') {
        ++i_;
        std::optional<unsigned char> hi;
        atom(hi);
        if (failed_ || !hi || *hi < *lo) return fail(), set;
        set |= range(*lo, *hi);
      } else {
        set.set(*lo);
      }
    }
    if (icase_) set = case_closed(set);
    if (negate) set = ~set;  // the complement of an exact (case-closed) set
    return set;
  }

  // sequence := (atom quantifier?)* up to '|' or ')' or the end. Every run
  // of bytes and every required group must occur: their requirements are
  // multiplied out (the DNF of a conjunction).
  Requirement sequence() {
    std::vector<Conjunction> all{Conjunction{}};
    Run run;
    auto flush = [&] {
      if (!run.empty())
        for (Conjunction& c : all) c.push_back(run);
      run.clear();
    };
    auto require = [&](const Requirement& group) {
      if (group.none() || all.size() * group.any_of.size() > kMaxConjunctions) return;
      std::vector<Conjunction> product;
      for (const Conjunction& c : all) {
        for (const Conjunction& g : group.any_of) {
          Conjunction both = c;
          both.insert(both.end(), g.begin(), g.end());
          product.push_back(std::move(both));
        }
      }
      all = std::move(product);
    };
    while (!failed_ && i_ < p_.size() && p_[i_] != '|' && p_[i_] != ')') {
      const unsigned char c = static_cast<unsigned char>(p_[i_]);
      enum class Atom { ZeroWidth, Bytes, Group } kind = Atom::Bytes;
      ByteSet bytes;
      Requirement group;
      if (c == '^' || c == '$') {
        ++i_;
        kind = Atom::ZeroWidth;
      } else if (c == '\\') {
        ++i_;
        if (!escape(false, bytes)) kind = Atom::ZeroWidth;
      } else if (c == '[') {
        ++i_;
        bytes = bracket();
      } else if (c == '.') {
        ++i_;
        bytes.set();
      } else if (c == '(') {
        ++i_;
        bool lookahead = false;
        if (i_ < p_.size() && p_[i_] == '?') {
          if (i_ + 1 >= p_.size()) return fail(), Requirement{};
          const char k = p_[i_ + 1];
          if (k == '=' || k == '!') {
            lookahead = true;
          } else if (k != ':') {
            return fail(), Requirement{};
          }
          i_ += 2;
        }
        // Deeply nested groups get no prefilter rather than a deep recursion.
        if (++depth_ > kMaxDepth) return fail(), Requirement{};
        group = alternation();
        --depth_;
        if (failed_ || i_ >= p_.size() || p_[i_] != ')') return fail(), Requirement{};
        ++i_;
        kind = lookahead ? Atom::ZeroWidth : Atom::Group;
      } else if (c == '*' || c == '+' || c == '?' || c == '{') {
        return fail(), Requirement{};
      } else {
        ++i_;
        bytes = literal(c);
      }
      if (failed_) return {};
      const std::optional<Quantifier> q = quantifier();
      if (failed_) return {};
      switch (kind) {
        case Atom::ZeroWidth:
          break;  // consumes nothing: the bytes around it stay adjacent
        case Atom::Bytes:
          if (q && q->min == 0) {
            flush();
          } else if (!q) {
            run.push_back(bytes);
          } else {
            const std::size_t n = std::min(q->min, kMaxRepeat);
            for (std::size_t k = 0; k < n; ++k) run.push_back(bytes);
            if (q->max != q->min || q->min > kMaxRepeat) flush();
          }
          break;
        case Atom::Group:
          flush();
          if (!q || q->min > 0) require(group);
          break;
      }
    }
    flush();
    // A conjunction without runs would accept anything.
    if (std::any_of(all.begin(), all.end(), [](const Conjunction& c) { return c.empty(); })) return {};
    return Requirement{std::move(all)};
  }

  std::string_view p_;
  bool icase_;
  std::size_t i_ = 0;
  std::size_t depth_ = 0;
  bool failed_ = false;
};

bool run_occurs(const Run& run, std::string_view text) {
  if (run.size() > text.size()) return false;
  const ByteSet& first = run.front();
  const std::size_t last = text.size() - run.size();
  for (std::size_t pos = 0; pos <= last; ++pos) {
    if (!first[static_cast<unsigned char>(text[pos])]) continue;
    std::size_t j = 1;
    while (j < run.size() && run[j][static_cast<unsigned char>(text[pos + j])]) ++j;
    if (j == run.size()) return true;
  }
  return false;
}

}  // namespace

RegexPrefilter RegexPrefilter::analyze(std::string_view pattern, bool icase) {
  RegexPrefilter f;
  if (std::optional<Requirement> r = Analyzer(pattern, icase).run()) f.any_of_ = std::move(r->any_of);
  return f;
}

bool RegexPrefilter::may_match(std::string_view text) const {
  if (any_of_.empty()) return true;
  return std::any_of(any_of_.begin(), any_of_.end(), [&](const std::vector<Run>& all) {
    return std::all_of(all.begin(), all.end(), [&](const Run& r) { return run_occurs(r, text); });
  });
}

}  // namespace kg
