# Unity builds (HACKING.md "Sanitizers and fuzzing"). `make asan` configures with
# -DCMAKE_UNITY_BUILD=ON (and `make build RELEASE_UNITY=ON`): each target's sources compile in
# batches of CMAKE_UNITY_BUILD_BATCH_SIZE (16) files, one compiler run per batch, so the headers,
# the templates they instantiate and the sanitizer instrumentation of every inline function are
# done once per batch instead of once per file (ASan: about a quarter less CPU time; the rbac
# engine's batch takes 29 CPU-s against 38.6 for its files one by one). Developers' incremental
# builds (no -DCMAKE_UNITY_BUILD) are unchanged.
#
# A batch is one translation unit: two files of a target that each define the same file-local name
# (anonymous namespace or static: usage_error, Mode, hex...) do not compile together. Such a file
# is listed here and compiles alone; a new collision shows up as "redefinition of" or "ambiguous"
# in a Unity/unity_N_cxx.cxx batch: add the file the error names.
set(KGUARD_UNITY_SKIP
  src/checks/component_flags.cpp
  src/checks/encryption_checks.cpp
  src/checks/encryption_flags.cpp
  src/checks/facts_references.cpp
  src/checks/image.cpp
  src/checks/image_lint.cpp
  src/checks/mesh.cpp
  src/checks/network_checks.cpp
  src/checks/node_checks.cpp
  src/checks/security_checks.cpp
  src/checks/set_checks.cpp
  src/checks/workload_reliability.cpp
  src/cli/admit_signatures.cpp
  src/cli/audit_policy_command.cpp
  src/cli/db_command.cpp
  src/cli/image_command.cpp
  src/cli/kms_command.cpp
  src/cli/netpol_command.cpp
  src/cli/node_command.cpp
  src/cli/rbac_command.cpp
  src/cli/registry_hook_command.cpp
  src/cli/scan_command.cpp
  src/cli/sign_report_command.cpp
  src/cli/vuln_cvss.cpp
  src/engines/image/lint/lint_facts.cpp
  src/engines/image/walk.cpp
  src/engines/rbac/rbac.cpp
  src/engines/rbac/rules.cpp
  src/engines/sign/sign.cpp
  src/engines/vuln/handling/vex.cpp
  src/engines/vuln/version/rpm.cpp
  src/report/text_report.cpp
  src/server/server.cpp
  tests/catalog/kinds_plan_test.cpp
  tests/unit/admit_gate_test.cpp
  tests/unit/admit_signature_test.cpp
  tests/unit/component_flags_test.cpp
  tests/unit/image_lint_test.cpp
  tests/vuln/version_unit_test.cpp)
list(TRANSFORM KGUARD_UNITY_SKIP PREPEND "${CMAKE_SOURCE_DIR}/")
set_source_files_properties(${KGUARD_UNITY_SKIP} DIRECTORY "${CMAKE_SOURCE_DIR}" "${CMAKE_SOURCE_DIR}/tests"
                            PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
# Generated code keeps its own translation units.
if(TARGET kguard_kms_proto)
  set_target_properties(kguard_kms_proto PROPERTIES UNITY_BUILD OFF)
endif()
