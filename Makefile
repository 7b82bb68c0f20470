# Wraps the README's two commands; the build itself is CMake (see HACKING.md).
BUILD      ?= build/release
ASAN_BUILD ?= build/asan
CLANG_BUILD ?= build/clang
TSAN_BUILD ?= build/tsan
JOBS       ?= $(shell nproc)
# Unity builds (cmake/Unity.cmake): the ASan build's batches take about a quarter less CPU time than
# its files one by one; UNITY=OFF compiles file by file (what an edit-compile loop wants).
# RELEASE_UNITY=OFF compiles the Release build file by file (its batches take less CPU time too).
UNITY      ?= ON
RELEASE_UNITY ?= ON
# The shared test corpora sit beside the checkout (../shared/corpora), or, for a clone made
# elsewhere (CI clones into a temporary folder), beside the repository it was cloned from.
# CORPORA=DIR points elsewhere; CMake warns when none holds them.
ORIGIN     := $(shell git config --get remote.origin.url 2>/dev/null)
CORPORA    ?= $(firstword $(wildcard $(abspath ../shared/corpora)) \
                $(if $(filter /%,$(ORIGIN)),$(wildcard $(abspath $(ORIGIN)/../shared/corpora))) \
                $(abspath ../shared/corpora))

.PHONY: demo test build deps deps-demo asan clang tidy tsan bench bench-peers bench-admit bench-sign bench-kms fuzz fuzz-admit fuzz-netpol fuzz-inventory fuzz-vuln fuzz-version fuzz-sign fuzz-kms format clean

demo: deps-demo
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DKGUARD_CORPORA_DIR=$(CORPORA) >/dev/null
	cmake --build $(BUILD) --target kguard -j $(JOBS)
	@$(BUILD)/kguard scan examples/ -o text -o json=kguard-report.json -o html=kguard-report.html; \
	  status=$$?; [ $$status -le 1 ] || exit $$status
	@echo "JSON report written to $(CURDIR)/kguard-report.json"
	@echo "HTML report written to $(CURDIR)/kguard-report.html (open it in a browser)"

# Builds with GCC (Release, ASan+UBSan) and clang (unoptimized), all with -Werror; runs ctest in the
# two GCC builds. The clang build only compiles: it proves the tree is warning-free under both.
test: deps build asan clang
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS)

deps:
	@scripts/install-deps.sh

deps-demo:
	@scripts/install-deps.sh --demo

build:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_UNITY_BUILD=$(RELEASE_UNITY) -DKGUARD_CORPORA_DIR=$(CORPORA)
	cmake --build $(BUILD) -j $(JOBS)

# The whole test suite again under AddressSanitizer + UndefinedBehaviorSanitizer.
# -O1 -g1 instead of RelWithDebInfo's -O2 -g: symbolized stacks with file:line, and a build about
# 2.5 times faster (most of a cold `make test` is this build). `make asan` goes further with -Og:
# GCC's -O1 minus the passes that move code, every check of both sanitizers kept, about 35% less
# compile time again (src/checks/set_checks.cpp: 13.7 CPU-s at -O1, 8.6 at -Og).
SANITIZE_FLAGS = -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG"
ASAN_FLAGS = -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-Og -g1 -DNDEBUG"
asan:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(ASAN_FLAGS) -DKGUARD_SANITIZE=ON -DCMAKE_UNITY_BUILD=$(UNITY) -DKGUARD_CORPORA_DIR=$(CORPORA)
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# The whole tree with clang, warnings are errors; nothing runs from it, so it is only compiled: the
# front end alone (KGUARD_SYNTAX_ONLY: -fsyntax-only, every diagnostic, no code generated) over every
# object's source, file by file (no unity batches: its compile_commands.json feeds `make tidy`), no
# archives or links. The object files are not written, so ninja runs them again each time.
clang:
	CXX=clang++ cmake -S . -B $(CLANG_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O0 -DKGUARD_SYNTAX_ONLY=ON -DCMAKE_UNITY_BUILD=OFF -DKGUARD_CORPORA_DIR=$(CORPORA)
	ninja -C $(CLANG_BUILD) -j $(JOBS) $$(ninja -C $(CLANG_BUILD) -t targets all | sed -n 's/^\([^:]*\.o\): .*/\1/p')

# clang-tidy (.clang-tidy at the root) over src/, as the ctest test clang_tidy of the clang build:
# any finding fails it.
tidy: clang
	cd $(CLANG_BUILD) && ctest -R '^clang_tidy$$' --output-on-failure

# ThreadSanitizer over what runs threads: scan --jobs over the corpora (cli_integration and the
# gtests), kguard admit over TLS, the server core and the namespace watch. Not part of `make test`
# (another full build; see HACKING.md for its time).
TSAN_TESTS ?= cli_integration|admit_integration|server_core_integration|namespace_watch_integration|Server
tsan:
	cmake -S . -B $(TSAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(SANITIZE_FLAGS) -DKGUARD_SANITIZE=thread -DKGUARD_CORPORA_DIR=$(CORPORA) -DKGUARD_LAYER_LINK_CHECK=OFF
	cmake --build $(TSAN_BUILD) -j $(JOBS)
	cd $(TSAN_BUILD) && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" ctest -R '$(TSAN_TESTS)' --output-on-failure -j $(JOBS)

bench: build
	bench/run_scan_bench.sh $(BUILD)/kguard $(BUILD)/bench/libyaml_floor

# kguard scan side by side with kube-score, checkov (and kube-linter, Polaris where the module
# proxy serves them), installed into ~/.cache/kguard-bench/peers (bench/results/peers.md).
bench-peers:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DKGUARD_CORPORA_DIR=$(CORPORA) >/dev/null
	cmake --build $(BUILD) --target kguard -j $(JOBS)
	bench/run_peer_bench.sh $(BUILD)/kguard

# The admission webhook under load (bench/results/admit.md); SOAK_SECONDS=0 skips the 10-minute soak.
bench-admit: build
	bench/run_admit_bench.sh $(BUILD)/kguard $(BUILD)/bench/admit_load

# Signing and verification against cosign and the admission signature gate (bench/results/signing.md).
bench-sign: build
	bench/run_sign_bench.sh $(BUILD)

# kguard kms serve: latency at 100 and 1,000 req/s, throughput, a 10-minute soak (bench/results/kms.md).
bench-kms: build
	python3 bench/run_kms_bench.py $(BUILD)/kguard $(BUILD)/bench/kms_load --soak $${KMS_SOAK_SECONDS:-600}

# Per input: a time and memory budget (a slow or hungry input is a finding, as a crash is).
FUZZ_BUDGET = -timeout=$${FUZZ_TIMEOUT:-10} -rss_limit_mb=$${FUZZ_RSS_MB:-2048} -malloc_limit_mb=$${FUZZ_RSS_MB:-2048}

# Runs the webhook's fuzzers (HTTP request heads, AdmissionReview decoding) for FUZZ_SECONDS each.
fuzz-admit: deps
	CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKGUARD_FUZZ=ON
	cmake --build build/fuzz --target fuzz_http_parser fuzz_admission_review -j $(JOBS)
	for t in http_parser admission_review; do mkdir -p build/fuzz/corpus-$$t && \
	  build/fuzz/fuzz/fuzz_$$t -max_total_time=$${FUZZ_SECONDS:-60} -max_len=65536 $(FUZZ_BUDGET) build/fuzz/corpus-$$t fuzz/corpus/$$t || exit 1; done

# Runs the loader fuzzers (clang + libFuzzer) for FUZZ_SECONDS (default 60) each from the seed
# corpora: the whole scan of untrusted bytes, the YAML fast path against libyaml, and the other
# files a user hands kguard: the config (.kguard.yaml), a custom rule.yaml and a --baseline report;
# and container images: layer blobs and archives, manifests, indexes and configs.
FUZZ_TARGETS ?= document_loader yaml_fast config rule baseline image_layer image_manifest openvex cyclonedx_vex rbac netpol
# Audit policies: the reader, the evaluator, detection rules' needs judged (fuzz/fuzz_audit_policy.cpp).
FUZZ_TARGETS += audit_policy
fuzz: deps
	CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKGUARD_FUZZ=ON -DKGUARD_CORPORA_DIR=$(CORPORA)
	cmake --build build/fuzz --target $(addprefix fuzz_,$(FUZZ_TARGETS)) -j $(JOBS)
	for t in $(FUZZ_TARGETS); do mkdir -p build/fuzz/corpus-$$t && \
	  build/fuzz/fuzz/fuzz_$$t -max_total_time=$${FUZZ_SECONDS:-60} -max_len=65536 $(FUZZ_BUDGET) \
	    build/fuzz/corpus-$$t fuzz/corpus/$$t || exit 1; done

# The image package catalogers' fuzzers (dpkg status, apk database, rpm headers and databases,
# executables, Java archives) for FUZZ_SECONDS each.
# The vulnerability feeds' fuzzers (OSV JSON and all.zip, secdb JSON/YAML, tracker JSON, vunnel).
VULN_FUZZ_TARGETS = vuln_osv_json vuln_osv_zip vuln_secdb_json vuln_secdb_yaml vuln_debian_tracker_json vuln_vunnel_json
fuzz-vuln: deps
	CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKGUARD_FUZZ=ON -DKGUARD_CORPORA_DIR=$(CORPORA)
	cmake --build build/fuzz --target $(addprefix fuzz_,$(VULN_FUZZ_TARGETS)) -j $(JOBS)
	for t in $(VULN_FUZZ_TARGETS); do mkdir -p build/fuzz/corpus-$$t && \
	  build/fuzz/fuzz/fuzz_$$t -max_total_time=$${FUZZ_SECONDS:-60} -max_len=262144 $(FUZZ_BUDGET) \
	    build/fuzz/corpus-$$t fuzz/corpus/$$t || exit 1; done

# The network policy engine's fuzzers (loader + whole connectivity, label selectors).
NETPOL_FUZZ_TARGETS = netpol_loader netpol_selector
fuzz-netpol: deps
	CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKGUARD_FUZZ=ON -DKGUARD_CORPORA_DIR=$(CORPORA)
	cmake --build build/fuzz --target $(addprefix fuzz_,$(NETPOL_FUZZ_TARGETS)) -j $(JOBS)
	for t in $(NETPOL_FUZZ_TARGETS); do mkdir -p build/fuzz/corpus-$$t && \
	  build/fuzz/fuzz/fuzz_$$t -max_total_time=$${FUZZ_SECONDS:-60} -max_len=65536 $(FUZZ_BUDGET) \
	    build/fuzz/corpus-$$t fuzz/corpus/$$t || exit 1; done

INVENTORY_FUZZ_TARGETS = dpkg_status apk_installed rpm_header binary_scanner java_archive sbom_input
fuzz-inventory: deps
	CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKGUARD_FUZZ=ON -DKGUARD_CORPORA_DIR=$(CORPORA)
	cmake --build build/fuzz --target $(addprefix fuzz_,$(INVENTORY_FUZZ_TARGETS)) -j $(JOBS)
	for t in $(INVENTORY_FUZZ_TARGETS); do mkdir -p build/fuzz/corpus-$$t && \
	  build/fuzz/fuzz/fuzz_$$t -max_total_time=$${FUZZ_SECONDS:-60} -max_len=262144 $(FUZZ_BUDGET) \
	    build/fuzz/corpus-$$t fuzz/corpus/$$t || exit 1; done

# The version-order fuzzers (engines/vuln/version: order properties of every scheme, each parser).
VERSION_FUZZ_TARGETS = version_differential version_parse
fuzz-version: deps
	CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKGUARD_FUZZ=ON -DKGUARD_CORPORA_DIR=$(CORPORA)
	cmake --build build/fuzz --target $(addprefix fuzz_,$(VERSION_FUZZ_TARGETS)) -j $(JOBS)
	for t in $(VERSION_FUZZ_TARGETS); do mkdir -p build/fuzz/corpus-$$t && \
	  build/fuzz/fuzz/fuzz_$$t -max_total_time=$${FUZZ_SECONDS:-60} -max_len=4096 $(FUZZ_BUDGET) \
	    build/fuzz/corpus-$$t fuzz/corpus/$$t || exit 1; done

# The image signing parsers' fuzzers (engines/sign: payloads, manifests, bundles, keys) for FUZZ_SECONDS each.
SIGN_FUZZ_TARGETS = sign_payload sign_manifest sign_bundle sign_key sign_dsse sign_statement sign_referrers sign_cert registry_events
fuzz-sign: deps
	CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKGUARD_FUZZ=ON -DKGUARD_CORPORA_DIR=$(CORPORA)
	cmake --build build/fuzz --target $(addprefix fuzz_,$(SIGN_FUZZ_TARGETS)) -j $(JOBS)
	for t in $(SIGN_FUZZ_TARGETS); do mkdir -p build/fuzz/corpus-$$t && \
	  build/fuzz/fuzz/fuzz_$$t -max_total_time=$${FUZZ_SECONDS:-60} -max_len=65536 $(FUZZ_BUDGET) \
	    build/fuzz/corpus-$$t fuzz/corpus/$$t || exit 1; done

# The KMS plugin's fuzzers (engines/kms: request messages, ciphertexts, state.json, PKCS#11 URIs; the
# proto3 codec and HTTP/2 connections).
fuzz-kms: deps
	CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKGUARD_FUZZ=ON -DKGUARD_CORPORA_DIR=$(CORPORA)
	cmake --build build/fuzz --target fuzz_kms fuzz_kms_grpc -j $(JOBS)
	for t in kms kms_grpc; do mkdir -p build/fuzz/corpus-$$t && build/fuzz/fuzz/fuzz_$$t -max_total_time=$${FUZZ_SECONDS:-60} \
	  -max_len=65536 $(FUZZ_BUDGET) build/fuzz/corpus-$$t fuzz/corpus/$$t || exit 1; done

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf build kguard-report.json kguard-report.html
