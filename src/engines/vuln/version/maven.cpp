// Maven version order: a port of maven-artifact's ComparableVersion (3.9 / 4.0
// line: combination items such as "rc1", "ga"/"final"/"release" equal to a
// release, int/long/BigInteger items by digit count). The version is read into
// a tree of items ('.' separates, '-' and digit/letter transitions open a
// sub-list), each list is normalised (null items before a string or the end
// removed), and the trees are compared as ListItem.compareTo does. Known
// qualifiers: alpha < beta < milestone < rc = cr < snapshot < "" = ga = final
// = release < sp < any other (lexically); a1/b1/m1 mean alpha-1/beta-1/
// milestone-1. Every string is a Maven version; letters are ASCII-lower-cased.
// The tree lives in a fixed array on the stack; only versions of more than
// 96 items spill to the heap.
#include <array>
#include <cstdint>
#include <vector>

#include "engines/vuln/version/detail.hpp"

namespace kg::vuln::detail {

namespace {

enum class Kind : std::uint8_t { Number, String, Combination, List };

constexpr int kNone = -1;

struct Item {
  Kind kind = Kind::List;
  std::string_view text;   // Number: digits without leading zeros (all-zero runs kept); String: the qualifier
  int num_class = 0;       // Number: 0 int, 1 long, 2 BigInteger (by digit count, as Maven picks)
  int digit = kNone;       // Combination: its number item
  int first = kNone, last = kNone, count = 0;  // List
  int prev = kNone, next = kNone;              // siblings
};

class Tree {
 public:
  int add(const Item& it) {
    if (n_ < inline_.size()) {
      inline_[n_] = it;
    } else {
      heap_.push_back(it);
    }
    return static_cast<int>(n_++);
  }
  Item& operator[](int i) {
    auto k = static_cast<std::size_t>(i);
    return k < inline_.size() ? inline_[k] : heap_[k - inline_.size()];
  }
  const Item& operator[](int i) const {
    auto k = static_cast<std::size_t>(i);
    return k < inline_.size() ? inline_[k] : heap_[k - inline_.size()];
  }
  void append(int list, int item) {
    Item& l = (*this)[list];
    (*this)[item].prev = l.last;
    (*this)[item].next = kNone;
    if (l.last != kNone) (*this)[l.last].next = item;
    else l.first = item;
    l.last = item;
    ++l.count;
  }
  void remove(int list, int item) {
    Item& l = (*this)[list];
    Item& it = (*this)[item];
    if (it.prev != kNone) (*this)[it.prev].next = it.next;
    else l.first = it.next;
    if (it.next != kNone) (*this)[it.next].prev = it.prev;
    else l.last = it.prev;
    --l.count;
  }

 private:
  std::array<Item, 96> inline_{};
  std::vector<Item> heap_;
  std::size_t n_ = 0;
};

Item number_item(std::string_view digits) {
  // stripLeadingZeroes keeps an all-zero run whole; the class follows its length.
  std::size_t z = 0;
  while (z < digits.size() && digits[z] == '0') ++z;
  if (digits.empty()) digits = "0";
  else if (z < digits.size()) digits.remove_prefix(z);
  Item it;
  it.kind = Kind::Number;
  it.text = digits;
  it.num_class = digits.size() <= 9 ? 0 : (digits.size() <= 18 ? 1 : 2);
  return it;
}

bool number_is_zero(const Item& it) {
  for (char c : it.text)
    if (c != '0') return false;
  return true;
}

// StringItem's constructor: a1/b1/m1 spellings (only before a digit), cr = rc.
std::string_view qualifier(std::string_view s, bool followed_by_digit) {
  if (followed_by_digit && s.size() == 1) {
    char c = to_lower(s[0]);
    if (c == 'a') return "alpha";
    if (c == 'b') return "beta";
    if (c == 'm') return "milestone";
  }
  if (iequals(s, "cr")) return "rc";
  return s;
}

// comparableQualifier: the index of a known qualifier, 7 for any other.
int qualifier_rank(std::string_view q) {
  static constexpr std::string_view kKnown[] = {"alpha", "beta", "milestone", "rc", "snapshot", "", "sp"};
  if (iequals(q, "ga") || iequals(q, "final") || iequals(q, "release")) return 5;
  for (int i = 0; i < 7; ++i)
    if (iequals(q, kKnown[i])) return i;
  return 7;
}

int compare_lower(std::string_view a, std::string_view b) {
  for (std::size_t k = 0; k < a.size() && k < b.size(); ++k) {
    char x = to_lower(a[k]), y = to_lower(b[k]);
    if (x != y) return static_cast<unsigned char>(x) < static_cast<unsigned char>(y) ? -1 : 1;
  }
  return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

int compare_qualifiers(std::string_view a, std::string_view b) {
  int ra = qualifier_rank(a), rb = qualifier_rank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  return ra == 7 ? compare_lower(a, b) : 0;
}

struct Parsed {
  Tree tree;
  int root = kNone;
  bool too_deep = false;  // nests deeper than kMaxDepth: ordered byte-wise, after all others
};

// ComparableVersion recurses once per nested list; past this depth (a
// thousand letter/digit switches) Java runs out of stack, and we stop too.
constexpr std::size_t kMaxDepth = 1000;

// Item parseItem(isCombination, isDigit, buf).
int parse_item(Tree& t, bool combination, bool digit, std::string_view buf) {
  if (combination) {
    // CombinationItem(buf.replace("-", "")): letters, then the number.
    std::size_t d = 0;
    while (d < buf.size() && !is_digit(buf[d])) ++d;
    std::string_view letters = buf.substr(0, d);
    if (!letters.empty() && letters.back() == '-') letters.remove_suffix(1);  // "x-1" is x1
    std::size_t e = d;
    while (e < buf.size() && (is_digit(buf[e]) || buf[e] == '-')) ++e;
    std::string_view digits = buf.substr(d, e - d);
    // A '-' cannot sit inside the digit run ('-' after a digit ends the item).
    Item c;
    c.kind = Kind::Combination;
    c.text = qualifier(letters, true);
    c.digit = t.add(number_item(digits));
    return t.add(c);
  }
  if (digit) return t.add(number_item(buf));
  Item s;
  s.kind = Kind::String;
  s.text = qualifier(buf, false);
  return t.add(s);
}

int new_list(Tree& t) { return t.add(Item{}); }

bool is_null(const Tree& t, int i) {
  const Item& it = t[i];
  switch (it.kind) {
    case Kind::Number: return number_is_zero(it);
    case Kind::String: return it.text.empty();
    case Kind::Combination: return false;
    case Kind::List: return it.count == 0;
  }
  return false;
}

void normalize(Tree& t, int list) {
  int i = t[list].last;
  while (i != kNone) {
    int prev = t[i].prev;
    if (is_null(t, i)) {
      int next = t[i].next;
      if (next == kNone || t[next].kind == Kind::String) {
        t.remove(list, i);
      } else if (t[next].kind == Kind::List) {
        int first = t[next].first;
        if (first != kNone && (t[first].kind == Kind::Combination || t[first].kind == Kind::String)) t.remove(list, i);
      }
    }
    i = prev;
  }
}

void parse(std::string_view v, Parsed& out) {
  Tree& t = out.tree;
  out.root = new_list(t);
  int list = out.root;
  // The lists to normalise, innermost last; lists nest at most once per byte.
  std::array<int, 64> stack_inline{};
  std::vector<int> stack_heap;
  std::size_t depth = 0;
  auto push = [&](int l) {
    if (depth < stack_inline.size()) stack_inline[depth] = l;
    else stack_heap.push_back(l);
    ++depth;
  };
  auto open_list = [&]() {
    if (depth >= kMaxDepth) out.too_deep = true;
    int l = new_list(t);
    t.append(list, l);
    list = l;
    push(l);
  };
  push(list);
  bool digit = false, combination = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < v.size() && !out.too_deep; ++i) {
    char c = v[i];
    if (c == '.') {
      if (i == start) t.append(list, t.add(number_item("0")));
      else t.append(list, parse_item(t, combination, digit, v.substr(start, i - start)));
      combination = false;
      start = i + 1;
    } else if (c == '-') {
      if (i == start) {
        t.append(list, t.add(number_item("0")));
      } else {
        if (!digit && i != v.size() - 1 && is_digit(v[i + 1])) {  // X-1 is X1
          combination = true;
          continue;
        }
        t.append(list, parse_item(t, combination, digit, v.substr(start, i - start)));
      }
      start = i + 1;
      if (t[list].count != 0) open_list();
      combination = false;
    } else if (is_digit(c)) {
      if (!digit && i > start) {
        combination = true;  // X1
        if (t[list].count != 0) open_list();
      }
      digit = true;
    } else {
      if (digit && i > start) {
        t.append(list, parse_item(t, combination, true, v.substr(start, i - start)));
        start = i;
        open_list();
        combination = false;
      }
      digit = false;
    }
  }
  if (out.too_deep) return;
  if (v.size() > start) {
    if (!digit && t[list].count != 0) open_list();  // 1.0.0.X1 < 1.0.0-X2
    t.append(list, parse_item(t, combination, digit, v.substr(start)));
  }
  while (depth > 0) {
    --depth;
    normalize(t, depth < stack_inline.size() ? stack_inline[depth] : stack_heap[depth - stack_inline.size()]);
  }
}

// Item.compareTo(Item) of each kind; j == kNone is Java's null.
int compare_item(const Tree& ta, int i, const Tree& tb, int j);

int compare_number(const Item& a, const Item& b) {
  if (a.num_class != b.num_class) return a.num_class < b.num_class ? -1 : 1;
  return compare_digit_runs(a.text, b.text);
}

int compare_string_with_null(std::string_view q) {
  int r = qualifier_rank(q);
  return r < 5 ? -1 : (r > 5 ? 1 : 0);
}

int compare_item(const Tree& ta, int i, const Tree& tb, int j) {
  const Item& a = ta[i];
  if (j == kNone) {
    switch (a.kind) {
      case Kind::Number: return number_is_zero(a) ? 0 : 1;
      case Kind::String:
      case Kind::Combination: return compare_string_with_null(a.text);
      case Kind::List:
        for (int k = a.first; k != kNone; k = ta[k].next)
          if (int r = compare_item(ta, k, tb, kNone); r != 0) return r;
        return 0;
    }
  }
  const Item& b = tb[j];
  switch (a.kind) {
    case Kind::Number:
      if (b.kind == Kind::Number) return compare_number(a, b);
      return 1;  // 1.1 > 1-sp, 1.1 > 1-1
    case Kind::String:
      if (b.kind == Kind::Number || b.kind == Kind::List) return -1;
      if (b.kind == Kind::String) return compare_qualifiers(a.text, b.text);
      {
        int r = compare_qualifiers(a.text, b.text);  // against the combination's string
        return r == 0 ? -1 : r;
      }
    case Kind::Combination:
      if (b.kind == Kind::Number || b.kind == Kind::List) return -1;
      if (b.kind == Kind::String) {
        int r = compare_qualifiers(a.text, b.text);
        return r == 0 ? 1 : r;  // X1 > X
      }
      if (int r = compare_qualifiers(a.text, b.text); r != 0) return r;
      return compare_item(ta, a.digit, tb, b.digit);
    case Kind::List:
      if (b.kind == Kind::Number) return -1;  // 1-1 < 1.0.x
      if (b.kind != Kind::List) return 1;     // 1-1 > 1-sp
      {
        int l = a.first, r = b.first;
        while (l != kNone || r != kNone) {
          int res = l == kNone ? (r == kNone ? 0 : -compare_item(tb, r, ta, kNone)) : compare_item(ta, l, tb, r);
          if (res != 0) return res;
          if (l != kNone) l = ta[l].next;
          if (r != kNone) r = tb[r].next;
        }
        return 0;
      }
  }
  return 0;
}

// The canonical form (ComparableVersion.getCanonical) for `why`.
void canonical(const Tree& t, int list, std::string& out) {
  bool first = true;
  for (int k = t[list].first; k != kNone; k = t[k].next) {
    const Item& it = t[k];
    if (!first) out += it.kind == Kind::List ? '-' : '.';
    first = false;
    switch (it.kind) {
      case Kind::Number: out += it.text; break;
      case Kind::String:
        for (char c : it.text) out += to_lower(c);
        break;
      case Kind::Combination:
        for (char c : it.text) out += to_lower(c);
        out += t[it.digit].text;
        break;
      case Kind::List: canonical(t, k, out); break;
    }
  }
}

}  // namespace

int compare_maven(std::string_view a, std::string_view b, std::string* why) {
  Parsed pa, pb;
  parse(a, pa);
  parse(b, pb);
  if (pa.too_deep || pb.too_deep) {
    int r = pa.too_deep == pb.too_deep ? compare_bytes(a, b) : (pa.too_deep ? 1 : -1);
    if (why) *why = "nested deeper than Maven can compare: ordered byte-wise after all other versions";
    return r;
  }
  int r = sign(compare_item(pa.tree, pa.root, pb.tree, pb.root));
  if (why) {
    std::string ca, cb;
    canonical(pa.tree, pa.root, ca);
    canonical(pb.tree, pb.root, cb);
    *why = "canonical " + side(ca) + ' ' + op_char(r) + ' ' + side(cb) +
           " (alpha < beta < milestone < rc < snapshot < release = ga = final < sp < other qualifiers)";
  }
  return r;
}

bool valid_maven(std::string_view v, std::string* error) {
  if (v.empty()) return set_error(error, "version is empty");
  Parsed p;
  parse(v, p);
  if (p.too_deep) return set_error(error, "too many letter/digit switches for ComparableVersion");
  for (char c : v)
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '/' || c == '\\' || c == ':' || c == '\0')
      return set_error(error, "a Maven version has no blanks, slashes or colons");
  return true;
}

}  // namespace kg::vuln::detail
