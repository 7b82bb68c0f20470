# CMake generated Testfile for 
# Source directory: /work/main/fuzz
# Build directory: /work/main/build/release/fuzz
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
add_test([=[fuzz_replay_document_loader]=] "/work/main/build/release/fuzz/fuzz_replay_document_loader" "/work/main/fuzz/corpus/document_loader")
set_tests_properties([=[fuzz_replay_document_loader]=] PROPERTIES  _BACKTRACE_TRIPLES "/work/main/fuzz/CMakeLists.txt;5;add_test;/work/main/fuzz/CMakeLists.txt;0;")
