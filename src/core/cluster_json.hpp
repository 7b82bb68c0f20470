// The JSON shape of what a cluster read found, shared by the JSON report's
// "cluster"/"coverage" and the envelope of a `kguard snapshot` file, so that a
// snapshot read back offline reports the same facts.
#pragma once

#include "core/cluster_info.hpp"
#include "core/json_writer.hpp"

namespace kg {

// server, context, serverVersion, readAt, namespaces, counts (null when the
// identity could not list them), kindsNotServed; not the coverage gaps.
void write_cluster_facts(JsonWriter& w, const ClusterInfo& c);

// One kind that could not be listed, and the rules it leaves unchecked.
void write_coverage_gap(JsonWriter& w, const CoverageGap& g);

}  // namespace kg
