// kubeadm keeps the cluster's ClusterConfiguration as YAML text in the
// ConfigMap kube-system/kubeadm-config (data.ClusterConfiguration). A live
// cluster, a snapshot or a dump of that ConfigMap shows it only as a string;
// unpacked, it is the ClusterConfiguration object the control-plane rules
// (component-flag) judge as they judge a kubeadm config file
// (docs/control-plane.md).
#pragma once

#include <memory>
#include <vector>

#include "core/document.hpp"
#include "core/object.hpp"

namespace kg {

// Whether `obj` is a ConfigMap named kubeadm-config in kube-system.
bool is_kubeadm_config_map(const Object& obj);

// The ClusterConfiguration in the ConfigMap's data.ClusterConfiguration,
// appended to `out` as an object of its own: kind ClusterConfiguration,
// namespace/name those of the ConfigMap, findings located in the ConfigMap's
// file under the path data.ClusterConfiguration.<field> (lines exact when the
// text is a YAML block scalar, counted from the string's line otherwise).
// The parsed text is kept in `keep` (the objects point into it). Malformed
// text, or text that is not a ClusterConfiguration, is an error naming the
// ConfigMap and the field; nothing is appended then.
void unpack_kubeadm_config(const Object& config_map, std::vector<std::unique_ptr<SourceFile>>& keep,
                           std::vector<Object>& out, std::vector<InputError>& errors);

}  // namespace kg
