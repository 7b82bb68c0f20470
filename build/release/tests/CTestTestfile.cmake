# CMake generated Testfile for 
# Source directory: /work/main/tests
# Build directory: /work/main/build/release/tests
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
include("/work/main/build/release/tests/kguard_tests[1]_include.cmake")
add_test([=[cli_integration]=] "/root/.pyenv/shims/python3" "/work/main/tests/integration/cli_test.py" "/work/main/build/release/kguard" "/work/main" "/work/shared/corpora")
set_tests_properties([=[cli_integration]=] PROPERTIES  _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;18;add_test;/work/main/tests/CMakeLists.txt;0;")
