// Control-plane component flags (kube-apiserver, kube-controller-manager,
// kube-scheduler, etcd) read from the objects that carry them: a Pod whose
// container runs the component (a static Pod manifest, or the mirror Pod a live
// cluster shows in kube-system) and a kubeadm ClusterConfiguration
// (kubeadm.k8s.io/v1beta3 map extraArgs, v1beta4 list of {name, value}).
//
// Flags are parsed as the components parse them: pflag for the Kubernetes
// components (`--flag=value`, `--flag value` unless the flag is a bool, bool
// flags without a value, repeated flags: the last wins, except slice flags
// such as --enable-admission-plugins, which accumulate, and --feature-gates,
// whose maps merge), Go's flag package for etcd (also `-flag`; etcd reads
// ETCD_<FLAG> environment variables for flags not on the command line).
// A ClusterConfiguration's flags are the ones kubeadm writes into the
// manifests it generates (kubeadm_default_flags) overridden by extraArgs.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/object.hpp"

namespace kg {

enum class ControlPlaneComponent : std::uint8_t { ApiServer, ControllerManager, Scheduler, Etcd };

std::optional<ControlPlaneComponent> parse_control_plane_component(std::string_view name);
std::string_view to_string(ControlPlaneComponent c);  // "kube-apiserver", ...

// One flag as the component ends up with it.
struct ComponentFlag {
  std::string name;   // without dashes
  std::string value;  // the effective value ("true" for a bare bool flag)
  // Every value given, in order (a slice flag's items are the comma-split of each).
  std::vector<std::string> values;
  const Node* at = nullptr;  // the argument (or extraArgs entry, or env var) that set it last
  std::string path;          // its field path
  bool from_env = false;     // etcd: ETCD_<FLAG> environment variable
  bool from_kubeadm = false; // not written: what kubeadm generates for a ClusterConfiguration
};

// The flags of one component instance.
struct ComponentFlags {
  ControlPlaneComponent component = ControlPlaneComponent::ApiServer;
  std::vector<ComponentFlag> flags;  // in order of first appearance
  // Where a finding about an absent flag points: the command/args list of the
  // container, or the component's section (extraArgs) of a ClusterConfiguration.
  const Node* at = nullptr;
  std::string path;
  std::string container;  // the container's name (Pods only)
  // Kubernetes minor release of the component when known (image tag
  // registry.k8s.io/kube-apiserver:v1.30.2, or kubernetesVersion), else 0.
  int kubernetes_minor = 0;
  // Arguments the parse could not read (e.g. a stray positional value after a
  // bool flag: the component refuses to start), for messages.
  std::vector<std::string> problems;

  const ComponentFlag* find(std::string_view name) const;
};

// Whether pflag treats the flag as a bool (no value consumed from the next
// argument) for this component.
bool is_bool_flag(ControlPlaneComponent c, std::string_view flag);
// Whether repeated uses accumulate (pflag StringSlice/StringArray flags).
bool is_slice_flag(ControlPlaneComponent c, std::string_view flag);

// One command-line argument and where it was written.
struct FlagArg {
  std::string_view text;
  const Node* at = nullptr;
  std::string path;
};

// Parses one argv (after the binary) into `out.flags`, as the component does.
void parse_component_args(std::span<const FlagArg> args, ComponentFlags& out);

// Every component instance an object carries: one per component container of
// a Pod, one per component of a kubeadm ClusterConfiguration (etcd only when
// local). Empty for any other object.
std::vector<ComponentFlags> parse_component_flags(const Object& obj, const PodView& pod);

// The flags kubeadm writes into the static Pod manifest of a component
// (cmd/kubeadm/app/phases/controlplane and etcd), name → value, for the
// security-relevant ones: what a ClusterConfiguration leaves unset.
// `cert_dir` is the configuration's certificatesDir (/etc/kubernetes/pki by default).
std::vector<std::pair<std::string, std::string>> kubeadm_default_flags(ControlPlaneComponent c,
                                                                       std::string_view cert_dir);

// kube-apiserver's admission plugins enabled by default (when
// --enable-admission-plugins does not name them and --disable does not).
std::vector<std::string_view> default_admission_plugins(int kubernetes_minor);

// The effective admission plugins of a kube-apiserver: --admission-control
// (deprecated; replaces the defaults) or the defaults plus
// --enable-admission-plugins, minus --disable-admission-plugins.
std::vector<std::string> effective_admission_plugins(const ComponentFlags& f);

// Comma list split, items trimmed, empty items dropped.
std::vector<std::string> split_flag_list(std::string_view v);
// pflag/strconv.ParseBool: 1 t T TRUE true True 0 f F FALSE false False.
std::optional<bool> parse_flag_bool(std::string_view v);
// --feature-gates=A=true,B=false: the gate's value, nullopt when not named.
std::optional<std::string> feature_gate_value(const ComponentFlags& f, std::string_view gate);

}  // namespace kg
