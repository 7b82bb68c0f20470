// `kguard rbac who-can | can | check`: the RBAC engine (engines/rbac) over
// manifests, snapshots or a live cluster, in text, JSON, CSV or Markdown.
// `check --batch FILE` answers one JSON request per line, exactly as the API
// server's SubjectAccessReview would (the differential test's interface).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/args.hpp"
#include "cli/cluster.hpp"
#include "cli/commands.hpp"
#include "core/cluster_info.hpp"
#include "core/json_writer.hpp"
#include "engines/rbac/compact.hpp"
#include "engines/rbac/rbac.hpp"
#include "engines/scan/scan.hpp"
#include "report/terminal.hpp"
#include "sources/render/render.hpp"

namespace kg::cli {
namespace {

constexpr const char* kRbacHelp = R"(Usage:
  kguard rbac who-can VERB RESOURCE[.GROUP][/SUB] [-n NS | -A] [--name N] [INPUT...]
  kguard rbac who-can VERB /URL-PATH [INPUT...]
  kguard rbac can SUBJECT [-n NS] [INPUT...]
  kguard rbac check SUBJECT VERB RESOURCE[.GROUP][/SUB] [-n NS] [--name N] [INPUT...]
  kguard rbac check SUBJECT VERB /URL-PATH [INPUT...]
  kguard rbac check --batch FILE [INPUT...]
  kguard rbac paths [INPUT...] [--from SUBJECT]   (see kguard rbac paths --help)

Answers RBAC questions exactly as the API server's authorizer would, over the
Roles, ClusterRoles, RoleBindings and ClusterRoleBindings of manifests
(files, folders, - for stdin), `kguard snapshot` files, or a live cluster.
Aggregated ClusterRoles get the rules kube-controller-manager would give
them. The bootstrap policy kube-apiserver creates (cluster-admin, admin, edit,
view, system:* roles and bindings) is assumed where the input lacks it, and
answers that rest on it say so.

SUBJECT: user:NAME, group:NAME, sa:NAMESPACE:NAME (or
system:serviceaccount:NAMESPACE:NAME). A user is authenticated
(system:authenticated); a ServiceAccount carries its token's groups
(system:serviceaccounts, system:serviceaccounts:NAMESPACE,
system:authenticated); a group is asked about alone.

check exits 0 when allowed, 1 when not (like kubectl auth can-i), 2 on errors.

Options:
  -n, --namespace NS           the request's namespace (default: none, i.e. a
                               cluster-wide or cluster-scoped request)
  -A, --all-namespaces         who-can: RoleBindings of every namespace count
      --name NAME              the object's name (resourceNames)
      --api-group GROUP        the resource's API group (default: from
                               RESOURCE.GROUP, else the group Kubernetes serves
                               a built-in resource in, else the core group "")
      --subresource SUB        same as RESOURCE/SUB
      --as-group GROUP         add a group to the subject (repeatable)
      --exact-groups           only the --as-group groups, none implied
      --batch FILE             check: JSON lines {"user","groups","verb",
                               "apiGroup","resource","subresource","namespace",
                               "name","path"}; one {"allowed","reason"} line
                               out per line in; user and groups as given
      --bootstrap assume|none  add the bootstrap policy where absent (default assume)
      --default-namespace NS   namespace of objects that name none (default "default")
  -o, --output FORMAT          text (default), json, csv, markdown
  -q, --quiet                  no notes on stderr
      --cluster                read the kubeconfig's cluster (--kubeconfig FILE,
                               --context NAME, --request-timeout SECS)
)";

int usage_error(const std::string& message) {
  std::cerr << "kguard rbac: " << Tsafe{message} << "\n(see kguard rbac --help)\n";
  return 2;
}

// Where Kubernetes serves its built-in resources (v1.37), so `who-can create
// deployments` means apps/deployments as kubectl's discovery would resolve it.
// A resource of no listed group is asked in the core group "".
std::string_view builtin_group(std::string_view resource) {
  struct Entry {
    std::string_view resource, group;
  };
  static constexpr Entry kGroups[] = {
      {"deployments", "apps"}, {"daemonsets", "apps"}, {"statefulsets", "apps"}, {"replicasets", "apps"},
      {"controllerrevisions", "apps"}, {"jobs", "batch"}, {"cronjobs", "batch"},
      {"horizontalpodautoscalers", "autoscaling"}, {"ingresses", "networking.k8s.io"},
      {"ingressclasses", "networking.k8s.io"}, {"networkpolicies", "networking.k8s.io"},
      {"ipaddresses", "networking.k8s.io"}, {"servicecidrs", "networking.k8s.io"},
      {"roles", "rbac.authorization.k8s.io"}, {"clusterroles", "rbac.authorization.k8s.io"},
      {"rolebindings", "rbac.authorization.k8s.io"}, {"clusterrolebindings", "rbac.authorization.k8s.io"},
      {"poddisruptionbudgets", "policy"}, {"storageclasses", "storage.k8s.io"},
      {"volumeattachments", "storage.k8s.io"}, {"csidrivers", "storage.k8s.io"}, {"csinodes", "storage.k8s.io"},
      {"csistoragecapacities", "storage.k8s.io"}, {"volumeattributesclasses", "storage.k8s.io"},
      {"customresourcedefinitions", "apiextensions.k8s.io"},
      {"mutatingwebhookconfigurations", "admissionregistration.k8s.io"},
      {"validatingwebhookconfigurations", "admissionregistration.k8s.io"},
      {"validatingadmissionpolicies", "admissionregistration.k8s.io"},
      {"validatingadmissionpolicybindings", "admissionregistration.k8s.io"},
      {"mutatingadmissionpolicies", "admissionregistration.k8s.io"},
      {"mutatingadmissionpolicybindings", "admissionregistration.k8s.io"},
      {"certificatesigningrequests", "certificates.k8s.io"}, {"clustertrustbundles", "certificates.k8s.io"},
      {"podcertificaterequests", "certificates.k8s.io"}, {"signers", "certificates.k8s.io"},
      {"leases", "coordination.k8s.io"}, {"endpointslices", "discovery.k8s.io"},
      {"priorityclasses", "scheduling.k8s.io"}, {"runtimeclasses", "node.k8s.io"},
      {"apiservices", "apiregistration.k8s.io"}, {"flowschemas", "flowcontrol.apiserver.k8s.io"},
      {"prioritylevelconfigurations", "flowcontrol.apiserver.k8s.io"},
      {"tokenreviews", "authentication.k8s.io"}, {"selfsubjectreviews", "authentication.k8s.io"},
      {"subjectaccessreviews", "authorization.k8s.io"}, {"selfsubjectaccessreviews", "authorization.k8s.io"},
      {"localsubjectaccessreviews", "authorization.k8s.io"}, {"selfsubjectrulesreviews", "authorization.k8s.io"},
      {"resourceclaims", "resource.k8s.io"}, {"resourceclaimtemplates", "resource.k8s.io"},
      {"deviceclasses", "resource.k8s.io"}, {"resourceslices", "resource.k8s.io"},
      {"storageversionmigrations", "storagemigration.k8s.io"}, {"userextras", "authentication.k8s.io"},
      {"uids", "authentication.k8s.io"}};
  for (const Entry& e : kGroups)
    if (e.resource == resource) return e.group;
  return "";
}

struct Flags {
  std::string ns;
  bool ns_given = false;
  bool all_namespaces = false;
  std::string name;
  std::optional<std::string> api_group;
  std::string subresource;
  std::vector<std::string> as_groups;
  bool exact_groups = false;
  std::string batch;
  bool bootstrap = true;
  std::string default_namespace = "default";
  std::string output = "text";
  bool quiet = false;
  ClusterFlags cluster;
  std::vector<std::string> positional;
};

// The parsed request of who-can / check: VERB RESOURCE[.GROUP][/SUB] or VERB /PATH.
bool parse_request(const std::string& verb, const std::string& what, const Flags& f, rbac::Request& r,
                   std::string& error) {
  r.verb = verb;
  if (verb.empty()) return error = "the verb is empty", false;
  if (!what.empty() && what.front() == '/') {
    r.resource_request = false;
    r.path = what;
    if (f.ns_given || !f.name.empty() || f.api_group || !f.subresource.empty())
      return error = "a non-resource URL takes no --namespace, --name, --api-group or --subresource", false;
    return true;
  }
  std::string res = what;
  if (auto slash = res.find('/'); slash != std::string::npos) {
    r.subresource = res.substr(slash + 1);
    res = res.substr(0, slash);
    if (r.subresource.empty()) return error = "empty subresource in " + what, false;
    if (!f.subresource.empty()) return error = "the subresource is given twice (RESOURCE/SUB and --subresource)", false;
  } else {
    r.subresource = f.subresource;
  }
  std::optional<std::string> group = f.api_group;
  if (auto dot = res.find('.'); dot != std::string::npos) {
    if (group) return error = "the API group is given twice (RESOURCE.GROUP and --api-group)", false;
    group = res.substr(dot + 1);
    res = res.substr(0, dot);
  }
  if (res.empty()) return error = "the resource is empty", false;
  r.resource = res;
  r.api_group = group ? *group : std::string(builtin_group(res));
  r.ns = f.ns;
  r.name = f.name;
  return true;
}

// SUBJECT → identity, as its credentials would carry it.
bool parse_subject(const std::string& s, const Flags& f, rbac::Identity& who, std::string& label,
                   std::string& error) {
  std::string ns, name;
  auto starts = [&](std::string_view p) { return s.rfind(p, 0) == 0; };
  if (rbac::parse_service_account_user(s, ns, name) || (starts("sa:") && [&] {
        const std::string rest = s.substr(3);
        const auto colon = rest.find(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) return false;
        ns = rest.substr(0, colon);
        name = rest.substr(colon + 1);
        return name.find(':') == std::string::npos;
      }())) {
    who = rbac::service_account_identity(ns, name);
    label = "ServiceAccount " + ns + "/" + name;
  } else if (starts("user:") && s.size() > 5) {
    who.user = s.substr(5);
    // The authenticator adds system:authenticated to every authenticated user.
    if (who.user == "system:anonymous") who.groups = {"system:unauthenticated"};
    else who.groups = {"system:authenticated"};
    label = "User " + who.user;
  } else if (starts("group:") && s.size() > 6) {
    who.groups = {s.substr(6)};
    label = "Group " + s.substr(6);
  } else {
    return error = "SUBJECT must be user:NAME, group:NAME, sa:NAMESPACE:NAME or system:serviceaccount:NS:NAME, not \"" +
                   s + "\"",
           false;
  }
  if (f.exact_groups) who.groups.clear();
  for (const std::string& g : f.as_groups)
    if (std::find(who.groups.begin(), who.groups.end(), g) == who.groups.end()) who.groups.push_back(g);
  return true;
}

// ---- inputs ----------------------------------------------------------------

struct Loaded {
  std::optional<rbac::RbacIndex> index;
  std::size_t assumed = 0;
  std::string cluster_version;  // from a snapshot or the live cluster
  std::size_t errors = 0;
};

void print_error(const InputError& e) {
  std::cerr << "kguard rbac: " << Tsafe{e.file};
  if (e.line) std::cerr << ':' << e.line << ':' << e.column;
  std::cerr << ": " << Tsafe{e.message} << '\n';
}

bool looks_like_object(const Node* root) {
  return root && root->is_map() && (root->get("apiVersion") || root->get("kind"));
}

void load_source(SourceFile& file, bool walked, rbac::PolicyLoader& loader, Loaded& out) {
  const LoadLimits limits;
  std::vector<InputError> errors;
  std::vector<Object> objects;
  stream_documents(file, limits, [&](const Document& doc) {
    if (doc.list_index < 0 && doc.root && str(get(doc.root, "kind")) == "List") {
      if (const Node* snap = get(doc.root, "kguardSnapshot"); snap && out.cluster_version.empty())
        out.cluster_version = parse_cluster_info(file.path, *snap, errors).server_version;
    }
    if (walked && doc.list_index < 0 && !looks_like_object(doc.root)) return;
    objects.clear();
    collect_objects(file, doc, objects, errors);
    for (const Object& obj : objects) loader.add(obj, errors);
  });
  for (const InputError& e : file.errors) errors.push_back(e);
  for (const InputError& e : errors) print_error(e);
  out.errors += errors.size();
}

bool read_stdin(std::string& out) {
  std::ostringstream buf;
  buf << std::cin.rdbuf();
  out = buf.str();
  return !std::cin.bad();
}

std::optional<Loaded> load(const Flags& f, const std::vector<std::string>& paths) {
  Loaded out;
  rbac::PolicyLoader loader(rbac::LoadOptions{f.default_namespace});
  if (f.cluster.enabled) {
    const std::vector<std::string> kinds = {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
                                            "ServiceAccount"};
    ClusterFlags flags = f.cluster;
    auto read = read_cluster_kinds(flags, kinds, [](const std::string&) { return std::vector<std::string>{}; },
                                   f.quiet);
    if (!read) return std::nullopt;
    for (const CoverageGap& gap : read->info.coverage) {
      std::cerr << "kguard rbac: " << Tsafe{gap.kind} << " could not be read (" << Tsafe{gap.reason}
                << "): answers may miss what it grants\n";
    }
    out.cluster_version = read->info.server_version;
    SourceFile file;
    file.path = "cluster:" + (read->info.context.empty() ? read->info.server : read->info.context);
    file.content = std::move(read->snapshot);
    load_source(file, false, loader, out);
  } else {
    ScanOptions scan_options;
    std::vector<InputError> errors, skipped;
    const std::vector<InputFile> files = expand_inputs(paths, scan_options, errors, skipped);
    for (const InputError& e : errors) print_error(e);
    out.errors += errors.size();
    // Charts and kustomizations are read through helm / kustomize, as `kguard scan` reads them.
    render::RenderedInputs rendered = render::render_inputs(paths, scan_options.render, 1);
    for (const InputError& e : rendered.errors) print_error(e);
    out.errors += rendered.errors.size();
    if (!f.quiet)
      for (const InputError& e : rendered.notes) print_error(e);
    for (const InputFile& in : files) {
      if (render::inside_root(in.path, rendered.roots)) continue;
      SourceFile file;
      file.path = in.path == "-" ? "<stdin>" : in.path;
      const bool ok = in.path == "-" ? read_stdin(file.content) : read_file(in.path, file.content);
      if (!ok) {
        print_error({file.path, 0, 0, "cannot read file"});
        ++out.errors;
        continue;
      }
      load_source(file, in.walked, loader, out);
    }
    for (render::RenderedFile& r : rendered.files) {
      SourceFile file;
      file.path = r.path;
      file.content = std::move(r.content);
      load_source(file, false, loader, out);
    }
  }
  if (f.bootstrap) out.assumed = loader.add_bootstrap();
  out.index.emplace(loader.take());
  if (!f.quiet && out.assumed > 0) {
    std::cerr << "kguard rbac: assumed " << out.assumed << " object(s) of the Kubernetes v"
              << rbac::bootstrap_version() << " bootstrap policy the input lacks (--bootstrap none to leave them out)\n";
  }
  if (!f.quiet && !out.cluster_version.empty() && out.assumed > 0) {
    const auto minor = kubernetes_minor(out.cluster_version);
    if (minor && "1." + std::to_string(*minor) != rbac::bootstrap_version()) {
      std::cerr << "kguard rbac: the cluster runs " << Tsafe{out.cluster_version} << "; the bootstrap policy assumed is v"
                << rbac::bootstrap_version() << "'s\n";
    }
  }
  return out;
}

// ---- output ----------------------------------------------------------------

// Rows of named columns; every format but JSON prints this.
struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
};

std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string md_cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|' || c == '\\' || c == '`' || c == '*' || c == '_' || c == '<' || c == '>') out += '\\';
    if (c == '\n' || c == '\r') {
      out += ' ';
      continue;
    }
    out += c;
  }
  return out;
}

void print_table(const Table& t, const std::string& format, std::ostream& out) {
  if (format == "csv") {
    for (std::size_t i = 0; i < t.columns.size(); ++i) out << (i ? "," : "") << csv_cell(t.columns[i]);
    out << '\n';
    for (const auto& row : t.rows) {
      for (std::size_t i = 0; i < row.size(); ++i) out << (i ? "," : "") << csv_cell(row[i]);
      out << '\n';
    }
    return;
  }
  if (format == "markdown") {
    out << '|';
    for (const std::string& c : t.columns) out << ' ' << md_cell(c) << " |";
    out << "\n|";
    for (std::size_t i = 0; i < t.columns.size(); ++i) out << " --- |";
    out << '\n';
    for (const auto& row : t.rows) {
      out << '|';
      for (const std::string& c : row) out << ' ' << md_cell(c) << " |";
      out << '\n';
    }
    return;
  }
  std::vector<std::size_t> width(t.columns.size());
  for (std::size_t i = 0; i < t.columns.size(); ++i) width[i] = t.columns[i].size();
  for (const auto& row : t.rows)
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], terminal_safe(row[i]).size());
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      const std::string c = terminal_safe(cells[i]);
      s += c;
      if (i + 1 < cells.size()) s += std::string(width[i] - c.size() + 2, ' ');
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    out << s << '\n';
  };
  line(t.columns);
  for (const auto& row : t.rows) line(row);
}

std::string join(const std::vector<std::string>& v, const char* sep = ",") {
  std::string s;
  for (const std::string& x : v) {
    if (!s.empty()) s += sep;
    s += x.empty() ? "\"\"" : x;
  }
  return s;
}

std::string subject_text(const rbac::RbacIndex& index, std::uint32_t binding, std::uint32_t subject) {
  const rbac::Binding& b = index.binding(binding);
  const rbac::Subject& s = b.subjects[subject];
  if (s.kind == rbac::SubjectKind::ServiceAccount) return (s.ns.empty() ? b.ns : s.ns) + "/" + s.name;
  return s.name;
}

std::string binding_text(const rbac::Binding& b) {
  return b.cluster ? "ClusterRoleBinding/" + b.name : "RoleBinding/" + b.ns + "/" + b.name;
}

std::string role_text(const rbac::Role& r) { return r.cluster ? "ClusterRole/" + r.name : "Role/" + r.ns + "/" + r.name; }

std::string request_text(const rbac::Request& r) {
  if (!r.resource_request) return r.verb + " " + r.path;
  std::string s = r.verb + " " + r.combined_resource();
  s += r.api_group.empty() ? " (core group)" : " (group " + r.api_group + ")";
  if (!r.name.empty()) s += " named " + r.name;
  s += r.ns.empty() ? ", cluster-wide" : ", in namespace " + r.ns;
  return s;
}

void json_request(JsonWriter& w, const rbac::Request& r) {
  w.key("request").begin_object();
  w.field("verb", r.verb);
  if (r.resource_request) {
    w.field("apiGroup", r.api_group).field("resource", r.resource).field("subresource", r.subresource);
    w.field("namespace", r.ns).field("name", r.name);
  } else {
    w.field("path", r.path);
  }
  w.end_object();
}

// ---- commands ----------------------------------------------------------------

int who_can(const Flags& f, const rbac::RbacIndex& index, const rbac::Request& request) {
  const std::vector<rbac::Allowing> found = index.who_can(request, f.all_namespaces);
  Table t{{"KIND", "SUBJECT", "SCOPE", "BINDING", "ROLE", "ASSUMED"}, {}};
  t.rows.push_back({"Group", std::string(rbac::kMastersGroup), "cluster", "(none: bypasses RBAC)", "", "no"});
  for (const rbac::Allowing& a : found) {
    const rbac::Binding& b = index.binding(a.binding);
    const rbac::Role& r = index.role(a.role);
    t.rows.push_back({std::string(rbac::subject_kind_name(b.subjects[a.subject].kind)),
                      subject_text(index, a.binding, a.subject), b.cluster ? "cluster" : "namespace " + b.ns,
                      binding_text(b), role_text(r), b.origin.assumed || r.origin.assumed ? "yes" : "no"});
  }
  if (f.output == "json") {
    JsonWriter w(std::cout);
    w.begin_object();
    json_request(w, request);
    w.field("bootstrapVersion", rbac::bootstrap_version());
    w.key("subjects").begin_array();
    w.begin_object().field("kind", "Group").field("name", rbac::kMastersGroup).field("scope", "cluster");
    w.field("note", "system:masters bypasses RBAC").end_object();
    for (const rbac::Allowing& a : found) {
      const rbac::Binding& b = index.binding(a.binding);
      const rbac::Subject& s = b.subjects[a.subject];
      const rbac::Role& r = index.role(a.role);
      w.begin_object().field("kind", rbac::subject_kind_name(s.kind)).field("name", s.name);
      if (s.kind == rbac::SubjectKind::ServiceAccount) w.field("namespace", s.ns.empty() ? b.ns : s.ns);
      w.field("scope", b.cluster ? std::string("cluster") : b.ns);
      w.key("binding").begin_object().field("kind", b.cluster ? "ClusterRoleBinding" : "RoleBinding");
      w.field("name", b.name);
      if (!b.cluster) w.field("namespace", b.ns);
      w.field("file", b.origin.file).field("line", std::uint64_t{b.origin.line}).end_object();
      w.key("role").begin_object().field("kind", r.cluster ? "ClusterRole" : "Role").field("name", r.name);
      if (!r.cluster) w.field("namespace", r.ns);
      w.field("file", r.origin.file).field("line", std::uint64_t{r.origin.line}).end_object();
      w.field("rule", rbac::describe_rule(index.effective_rule(a.role, a.rule)));
      w.field("assumed", b.origin.assumed || r.origin.assumed);
      w.field("reason", index.describe(a)).end_object();
    }
    w.end_array().end_object();
    w.flush();
    std::cout << '\n';
    return 0;
  }
  if (f.output == "text") std::cout << "who can " << Tsafe{request_text(request)} << ":\n";
  print_table(t, f.output, std::cout);
  return 0;
}

int can(const Flags& f, const rbac::RbacIndex& index, const rbac::Identity& who, const std::string& label) {
  std::optional<std::string> ns;
  if (f.ns_given) ns = f.ns;
  const std::vector<rbac::CompactRule> rules = rbac::compact_rules(index, who, ns);
  Table t{{"SCOPE", "API GROUPS", "RESOURCES", "NON-RESOURCE URLS", "RESOURCE NAMES", "VERBS", "VIA", "ASSUMED"}, {}};
  for (const rbac::CompactRule& r : rules) {
    t.rows.push_back({r.scope.empty() ? "cluster" : "namespace " + r.scope, join(r.rule.api_groups),
                      join(r.rule.resources), join(r.rule.non_resource_urls), join(r.rule.resource_names),
                      join(r.rule.verbs), join(r.via, "; "), r.assumed ? "yes" : "no"});
  }
  if (f.output == "json") {
    JsonWriter w(std::cout);
    w.begin_object().key("subject").begin_object().field("user", who.user);
    w.key("groups").begin_array();
    for (const std::string& g : who.groups) w.value(g);
    w.end_array().end_object();
    w.field("bootstrapVersion", rbac::bootstrap_version());
    w.key("rules").begin_array();
    for (const rbac::CompactRule& r : rules) {
      w.begin_object().field("scope", r.scope.empty() ? std::string("cluster") : r.scope);
      auto list = [&](const char* k, const std::vector<std::string>& v) {
        w.key(k).begin_array();
        for (const std::string& s : v) w.value(s);
        w.end_array();
      };
      list("apiGroups", r.rule.api_groups);
      list("resources", r.rule.resources);
      list("nonResourceURLs", r.rule.non_resource_urls);
      list("resourceNames", r.rule.resource_names);
      list("verbs", r.rule.verbs);
      list("via", r.via);
      w.field("assumed", r.assumed).end_object();
    }
    w.end_array().end_object();
    w.flush();
    std::cout << '\n';
    return 0;
  }
  if (f.output == "text") {
    std::cout << Tsafe{label} << " (user \"" << Tsafe{who.user} << "\", groups: " << Tsafe{join(who.groups)}
              << ") may:\n";
    if (rules.empty()) {
      std::cout << "nothing: no binding grants this subject anything\n";
      return 0;
    }
  }
  print_table(t, f.output, std::cout);
  return 0;
}

int check(const Flags& f, const rbac::RbacIndex& index, const rbac::Identity& who, const std::string& label,
          const rbac::Request& request) {
  const rbac::Decision d = index.authorize(who, request);
  std::string binding, role, rule;
  bool assumed = false;
  if (d.by) {
    const rbac::Binding& b = index.binding(d.by->binding);
    const rbac::Role& r = index.role(d.by->role);
    binding = binding_text(b);
    role = role_text(r);
    rule = rbac::describe_rule(index.effective_rule(d.by->role, d.by->rule));
    assumed = b.origin.assumed || r.origin.assumed;
  }
  const std::string reason = d.allowed ? d.reason
                             : d.reason.empty() ? std::string("no rule grants it")
                                                : "no rule grants it (" + d.reason + ")";
  if (f.output == "json") {
    JsonWriter w(std::cout);
    w.begin_object().key("subject").begin_object().field("user", who.user);
    w.key("groups").begin_array();
    for (const std::string& g : who.groups) w.value(g);
    w.end_array().end_object();
    json_request(w, request);
    w.field("allowed", d.allowed).field("reason", reason);
    if (d.by) w.field("binding", binding).field("role", role).field("rule", rule).field("assumed", assumed);
    w.end_object();
    w.flush();
    std::cout << '\n';
  } else if (f.output == "text") {
    std::cout << (d.allowed ? "yes" : "no") << ": " << Tsafe{label} << " " << (d.allowed ? "may " : "may not ")
              << Tsafe{request_text(request)} << '\n';
    if (d.by_masters) std::cout << "  because: member of system:masters, which bypasses RBAC\n";
    if (d.by) {
      std::cout << "  binding: " << Tsafe{binding} << "\n  role:    " << Tsafe{role} << "\n  rule:    " << Tsafe{rule}
                << '\n';
      if (assumed) std::cout << "  (assumed: bootstrap policy v" << rbac::bootstrap_version() << ", not in the input)\n";
    }
    if (!d.allowed) std::cout << "  " << Tsafe{reason} << '\n';
    // kube-apiserver runs the Node authorizer before RBAC (--authorization-mode=Node,RBAC).
    if (!d.allowed && who.user.rfind("system:node:", 0) == 0)
      std::cout << "  note: a kubelet's requests also pass the Node authorizer, which this answer does not model\n";
  } else {
    Table t{{"ALLOWED", "SUBJECT", "REQUEST", "BINDING", "ROLE", "RULE", "ASSUMED", "REASON"}, {}};
    t.rows.push_back({d.allowed ? "yes" : "no", label, request_text(request), binding, role, rule,
                      assumed ? "yes" : "no", reason});
    print_table(t, f.output, std::cout);
  }
  return d.allowed ? 0 : 1;
}

// One request per JSON line, answered as SubjectAccessReview would: the
// user and groups exactly as given (nothing implied).
int check_batch(const Flags& f, const rbac::RbacIndex& index) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (f.batch != "-") {
    file.open(f.batch, std::ios::binary);
    if (!file) return usage_error("cannot read --batch file " + f.batch);
    in = &file;
  }
  std::string line;
  std::size_t number = 0;
  std::string out;
  while (std::getline(*in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank lines carry no request
    std::string error;
    rbac::Identity who;
    rbac::Request r;
    const bool ok = rbac::parse_access_question(line, who, r, error);
    out.clear();
    out += "{\"allowed\":";
    if (!ok) {
      out += "false,\"reason\":\"\",\"error\":";
      JsonWriter::escape(out, "line " + std::to_string(number) + ": " + error);
    } else {
      const rbac::Decision d = index.authorize(who, r);
      out += d.allowed ? "true" : "false";
      out += ",\"reason\":";
      JsonWriter::escape(out, d.reason);
      if (d.by) {
        const rbac::Binding& b = index.binding(d.by->binding);
        const rbac::Role& role = index.role(d.by->role);
        out += ",\"assumed\":";
        out += b.origin.assumed || role.origin.assumed ? "true" : "false";
      }
    }
    out += "}\n";
    std::cout << out;
  }
  std::cout.flush();
  return std::cout ? 0 : 2;
}

}  // namespace

int rbac_command(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::cerr << kRbacHelp;
    return 2;
  }
  if (args[0] == "-h" || args[0] == "--help") {
    std::cout << kRbacHelp;
    return 0;
  }
  const std::string& sub = args[0];
  if (sub == "paths") return rbac_paths_command(args);  // cli/rbac_paths.cpp
  if (sub != "who-can" && sub != "can" && sub != "check")
    return usage_error("unknown subcommand \"" + sub + "\": who-can, can or check");
  Flags f;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    ArgCursor flag(args, i);
    std::string v;
    if (a == "-h" || a == "--help") {
      std::cout << kRbacHelp;
      return 0;
    } else if (flag.is("--namespace", "-n")) {
      if (!flag.value(v) || v.empty()) return usage_error("--namespace needs a name");
      f.ns = v;
      f.ns_given = true;
    } else if (a == "-A" || a == "--all-namespaces") {
      f.all_namespaces = true;
    } else if (flag.is("--name")) {
      if (!flag.value(v) || v.empty()) return usage_error("--name needs a name");
      f.name = v;
    } else if (flag.is("--api-group")) {
      if (!flag.value(v)) return usage_error("--api-group needs a group (\"\" for the core group)");
      f.api_group = v;
    } else if (flag.is("--subresource")) {
      if (!flag.value(v) || v.empty()) return usage_error("--subresource needs a name");
      f.subresource = v;
    } else if (flag.is("--as-group")) {
      if (!flag.value(v) || v.empty()) return usage_error("--as-group needs a group");
      f.as_groups.push_back(v);
    } else if (a == "--exact-groups") {
      f.exact_groups = true;
    } else if (flag.is("--batch")) {
      if (!flag.value(v) || v.empty()) return usage_error("--batch needs a file (- for stdin)");
      f.batch = v;
    } else if (flag.is("--bootstrap")) {
      if (!flag.value(v) || (v != "assume" && v != "none")) return usage_error("--bootstrap takes assume or none");
      f.bootstrap = v == "assume";
    } else if (flag.is("--default-namespace")) {
      if (!flag.value(v) || v.empty()) return usage_error("--default-namespace needs a name");
      f.default_namespace = v;
    } else if (flag.is("--output", "-o")) {
      if (!flag.value(v) || (v != "text" && v != "json" && v != "csv" && v != "markdown"))
        return usage_error("--output takes text, json, csv or markdown");
      f.output = v;
    } else if (a == "-q" || a == "--quiet") {
      f.quiet = true;
    } else if (a == "--cluster" || flag.is("--kubeconfig") || flag.is("--context") || flag.is("--list-parallel") ||
               flag.is("--chunk-size") || flag.is("--request-timeout")) {
      std::string error;
      if (f.cluster.parse(args, i, error) < 0) return usage_error(error);
    } else if (a.size() > 1 && a[0] == '-' && a != "-") {
      return usage_error("unknown option " + a);
    } else {
      f.positional.push_back(a);
    }
  }
  if (f.all_namespaces && f.ns_given) return usage_error("--namespace and --all-namespaces exclude each other");
  if (f.all_namespaces && sub != "who-can") return usage_error("--all-namespaces is for who-can");
  std::size_t fixed = 0;  // positional arguments that are the question, not inputs
  if (!f.batch.empty()) {
    if (sub != "check") return usage_error("--batch is for check");
    if (f.output != "text") return usage_error("--batch prints JSON lines; no --output");
  } else {
    fixed = sub == "who-can" ? 2 : sub == "can" ? 1 : 3;
    if (f.positional.size() < fixed) {
      return usage_error(sub == "who-can" ? "who-can needs VERB RESOURCE (or VERB /PATH)"
                         : sub == "can"   ? "can needs SUBJECT"
                                          : "check needs SUBJECT VERB RESOURCE (or SUBJECT VERB /PATH)");
    }
  }
  const std::vector<std::string> question(f.positional.begin(), f.positional.begin() + static_cast<long>(fixed));
  const std::vector<std::string> paths(f.positional.begin() + static_cast<long>(fixed), f.positional.end());
  if (f.cluster.enabled && !paths.empty()) return usage_error("--cluster reads the cluster; do not give inputs too");
  if (!f.cluster.enabled && paths.empty()) return usage_error("no input: give files, folders, - for stdin, or --cluster");
  if (f.batch == "-" && std::find(paths.begin(), paths.end(), "-") != paths.end())
    return usage_error("stdin cannot be both the --batch file and an input");

  rbac::Request request;
  rbac::Identity who;
  std::string label, error;
  if (sub == "who-can" && !parse_request(question[0], question[1], f, request, error)) return usage_error(error);
  if (sub == "can" && !parse_subject(question[0], f, who, label, error)) return usage_error(error);
  if (sub == "check" && f.batch.empty() &&
      (!parse_subject(question[0], f, who, label, error) || !parse_request(question[1], question[2], f, request, error)))
    return usage_error(error);

  std::optional<Loaded> loaded = load(f, paths);
  if (!loaded) return 2;
  const rbac::RbacIndex& index = *loaded->index;
  if (!f.batch.empty()) return check_batch(f, index);
  if (sub == "who-can") return who_can(f, index, request);
  if (sub == "can") return can(f, index, who, label);
  return check(f, index, who, label, request);
}

}  // namespace kg::cli
