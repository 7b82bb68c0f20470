// kguard audit policy check POLICY [--rules DIR] [-o text|json]: which
// detection rules an audit Policy leaves blind (engines/audit/policy).
#include <algorithm>
#include <iostream>

#include "checks/audit_policy.hpp"
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "core/json_writer.hpp"
#include "engines/audit/policy/coverage.hpp"
#include "report/terminal.hpp"

namespace kg::cli {

namespace {

constexpr const char* kUsage = R"(usage: kguard audit policy check POLICY [--rules DIR] [-o text|json]

Judges an audit.k8s.io Policy (the file kube-apiserver's --audit-policy-file
names) with kube-apiserver's own semantics against what each detection rule
must see in the log (its `needs:`): covered, partial (covered except for some
users, groups, namespaces or names the policy singles out) or blind (the
requests are not logged, too low, or in an omitted stage), with the policy
rule and line that decide it.

  --rules DIR   detection rules to judge (every rule.yaml under DIR);
                default: the rules built into kguard (kguard audit rules);
                rules disabled by `enabled: false` are not judged
  -o FORMAT     text (default) or json
  --max-reasons N  reasons shown per rule in text (default 5; json has all)

Exit code: 0 no rule blind, 1 at least one rule blind, 2 error (including a
policy kube-apiserver would refuse: its problems are printed with file:line;
one refused only for the removed audit.k8s.io/v1beta1 or v1alpha1 is judged
with v1's fields, for clusters before 1.24).
)";

int usage_error(const std::string& message) {
  std::cerr << "kguard audit policy: " << Tsafe{message} << "\n(see kguard audit policy --help)\n";
  return 2;
}

}  // namespace

int audit_policy_main(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  if (args[0] != "check") return usage_error("unknown subcommand \"" + args[0] + "\" (check)");
  std::string rules_dir, output = "text", policy_path;
  long long max_reasons = 5;
  for (std::size_t i = 1; i < args.size(); ++i) {
    ArgCursor a(args, i);
    std::string v;
    if (a.is("--help", "-h")) {
      std::cout << kUsage;
      return 0;
    } else if (a.is("--rules")) {
      if (!a.value(rules_dir)) return usage_error("--rules needs a directory");
    } else if (a.is("--output", "-o")) {
      if (!a.value(output) || (output != "text" && output != "json"))
        return usage_error("-o takes text or json");
    } else if (a.is("--max-reasons")) {
      if (!a.value(v) || !parse_int_in(v, 1, 100000, max_reasons))
        return usage_error("--max-reasons needs a number from 1");
    } else if (!args[i].empty() && args[i][0] == '-' && args[i] != "-") {
      return usage_error("unknown flag " + args[i]);
    } else if (policy_path.empty()) {
      policy_path = args[i];
    } else {
      return usage_error("one POLICY file only");
    }
  }
  if (policy_path.empty()) return usage_error("check needs the POLICY file");

  SourceFile file;
  file.path = policy_path == "-" ? "<stdin>" : policy_path;
  if (policy_path == "-") {
    file.content.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else if (!read_file(policy_path, file.content)) {
    std::cerr << "kguard audit policy: cannot read " << Tsafe{policy_path} << '\n';
    return 2;
  }
  load_documents(file);
  bool failed = false;
  for (const InputError& e : file.errors) {
    std::cerr << Tsafe{e.file} << ':' << e.line << ':' << e.column << ": " << Tsafe{e.message} << '\n';
    failed = true;
  }
  const Node* root = nullptr;
  for (const Document& d : file.documents) {
    if (audit_policy::is_policy(str(get(d.root, "apiVersion")), str(get(d.root, "kind")))) {
      root = d.root;
      break;
    }
  }
  if (!root && !file.documents.empty() && str(get(file.documents[0].root, "kind")) == "Policy")
    root = file.documents[0].root;  // a Policy of an unknown version: read_policy says why
  if (!root) {
    std::cerr << Tsafe{file.path} << ": no audit.k8s.io Policy document\n";
    return 2;
  }
  audit_policy::Policy policy;
  std::vector<audit_policy::Problem> problems;
  const bool valid = audit_policy::read_policy(root, policy, problems);
  for (const audit_policy::Problem& p : problems) {
    std::cerr << Tsafe{file.path} << ':' << (p.at ? p.at->line : 0) << ':' << (p.at ? p.at->column : 0) << ": "
              << (p.error ? "error: " : "warning: ") << Tsafe{p.field.empty() ? std::string("policy") : p.field}
              << ": " << Tsafe{p.message} << '\n';
  }
  // A policy refused only for its removed group version (v1beta1/v1alpha1) has v1's
  // fields: judged all the same, for the clusters before 1.24 that still read it.
  const bool version_only = !valid && std::all_of(problems.begin(), problems.end(), [](const audit_policy::Problem& p) {
    return !p.error || p.version_only();
  });
  if (version_only) std::cerr << "kguard audit policy: judging it with the fields of audit.k8s.io/v1\n";
  if ((!valid && !version_only) || failed) {
    std::cerr << "kguard audit policy: kube-apiserver would refuse " << Tsafe{file.path} << '\n';
    return 2;
  }

  std::vector<InputError> errors;
  audit::RuleSet set;
  if (rules_dir.empty()) set = audit::builtin_rules(errors);
  else audit::add_rules_dir(set, rules_dir, errors);
  for (const InputError& e : errors)
    std::cerr << Tsafe{e.file} << ':' << e.line << ':' << e.column << ": " << Tsafe{e.message} << '\n';
  if (!errors.empty()) return 2;
  std::vector<const audit::AuditRule*> rules;
  for (const auto& r : set.rules)
    if (r->enabled) rules.push_back(r.get());
  if (rules.empty()) {
    std::cerr << "kguard audit policy: no detection rules"
              << (rules_dir.empty() ? std::string(" built in") : " under " + rules_dir) << '\n';
    return 2;
  }

  std::vector<audit::RuleCoverage> verdicts;
  std::size_t counts[4] = {0, 0, 0, 0};
  for (const audit::AuditRule* r : rules) {
    verdicts.push_back(audit::judge(policy, *r, file.path));
    ++counts[static_cast<std::size_t>(verdicts.back().coverage)];
  }
  const std::size_t blind = counts[static_cast<std::size_t>(audit::Coverage::Blind)];

  if (output == "json") {
    JsonWriter w(std::cout);
    w.begin_object().field("policy", std::string_view(file.path));
    w.key("summary").begin_object();
    for (audit::Coverage c : {audit::Coverage::Covered, audit::Coverage::Partial, audit::Coverage::Blind,
                              audit::Coverage::Undeclared})
      w.field(audit::to_string(c), static_cast<std::uint64_t>(counts[static_cast<std::size_t>(c)]));
    w.end_object();
    w.key("rules").begin_array();
    for (const audit::RuleCoverage& v : verdicts) {
      w.begin_object()
          .field("id", std::string_view(v.rule->id))
          .field("title", std::string_view(v.rule->title))
          .field("coverage", audit::to_string(v.coverage));
      w.key("reasons").begin_array();
      for (const std::string& reason : v.reasons) w.value(reason);
      w.end_array().end_object();
    }
    w.end_array().end_object();
    w.flush();
    std::cout << '\n';
  } else {
    std::cout << Tsafe{file.path} << ": " << rules.size() << " detection rules: " << counts[0] << " covered, "
              << counts[1] << " partial, " << counts[2] << " blind";
    if (counts[3]) std::cout << ", " << counts[3] << " without needs";
    std::cout << '\n';
    for (audit::Coverage want : {audit::Coverage::Blind, audit::Coverage::Partial, audit::Coverage::Undeclared,
                                 audit::Coverage::Covered}) {
      for (const audit::RuleCoverage& v : verdicts) {
        if (v.coverage != want) continue;
        std::string tag(audit::to_string(v.coverage));
        for (char& c : tag) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        std::cout << tag << std::string(tag.size() < 11 ? 11 - tag.size() : 1, ' ') << Tsafe{v.rule->id};
        if (!v.rule->title.empty()) std::cout << "  " << Tsafe{v.rule->title};
        std::cout << '\n';
        std::size_t shown = 0;
        for (const std::string& reason : v.reasons) {
          if (shown++ == static_cast<std::size_t>(max_reasons)) {
            std::cout << "           ... and " << (v.reasons.size() - shown + 1) << " more (-o json lists all)\n";
            break;
          }
          std::cout << "           " << Tsafe{reason} << '\n';
        }
      }
    }
  }
  return blind ? 1 : 0;
}

}  // namespace kg::cli
