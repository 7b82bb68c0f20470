#!/bin/sh
# Regenerates tests/rbac/covers_cases.json: every escalationTest of
# k8s.io/component-helpers auth/rbac/validation/policy_comparator_test.go
# (the rule-coverage code kube-apiserver uses to refuse escalation), run
# against the real Covers and recorded as data: test name, owner rules,
# servant rules, expected covered and uncovered rules. The C++ test
# (rbac_test.cpp) checks kguard's covers() on each. Needs go; fetches the
# modules through the Go module proxy once.
# Usage: tests/rbac/gen_upstream_cases.sh [VERSION]   (default v0.37.2)
set -eu
version=${1:-v0.37.2}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
cat > go.mod <<MOD
module kguardcases
go 1.24
require (
	k8s.io/api $version
	k8s.io/component-helpers $version
)
MOD
dir=$(go mod download -json "k8s.io/component-helpers@$version" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
mkdir validation
cp "$dir/auth/rbac/validation/policy_comparator.go" validation/
# The upstream test file, its assertion replaced by a recorder: the expected
# values stay the upstream ones, and Covers itself must still agree.
python3 - "$dir/auth/rbac/validation/policy_comparator_test.go" validation/policy_comparator_test.go <<'PY'
import re, sys
src = open(sys.argv[1]).read()
start = src.index("func (test escalationTest) test(t *testing.T) {")
end = src.index("\n}\n", start) + 3
recorder = '''func (test escalationTest) test(t *testing.T) {
	actualCovered, actualUncovered := Covers(test.ownerRules, test.servantRules)
	if actualCovered != test.expectedCovered || !rulesMatch(test.expectedUncoveredRules, actualUncovered) {
		t.Fatalf("upstream Covers disagrees with its own test")
	}
	recorded = append(recorded, map[string]interface{}{
		"name": t.Name(), "owner": test.ownerRules, "servant": test.servantRules,
		"covered": test.expectedCovered, "uncovered": test.expectedUncoveredRules,
	})
}

var recorded []map[string]interface{}

func TestMain(m *testing.M) {
	code := m.Run()
	out, _ := json.MarshalIndent(recorded, "", " ")
	os.WriteFile(os.Getenv("CASES_OUT"), append(out, '\\n'), 0o644)
	os.Exit(code)
}
'''
src = src[:start] + recorder + src[end:]
src = src.replace('import (\n', 'import (\n\t"encoding/json"\n\t"os"\n', 1)
open(sys.argv[2], "w").write(src)
PY
go mod tidy >/dev/null 2>&1
CASES_OUT="$here/covers_cases.json" go test ./validation/ >/dev/null
echo "wrote $here/covers_cases.json ($(grep -c '"name"' "$here/covers_cases.json") cases)"
