# Sanitizers apply to every target of the build on purpose: a sanitizer run is only sound when
# every translation unit (libraries, tests, fuzz replays, tools) is instrumented the same way.
string(TOLOWER "${KGUARD_SANITIZE}" _kguard_sanitize)
set(KGUARD_SANITIZED OFF)  # true in any sanitizer build (tests/ skips the e2e tests there)
if(_kguard_sanitize STREQUAL "on" OR _kguard_sanitize STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
  set(KGUARD_SANITIZED ON)
elseif(_kguard_sanitize STREQUAL "thread")
  # The scan's --jobs workers, the cluster reader's parallel lists and the webhook's epoll workers
  # and namespace watch are the threads TSan watches.
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
  set(KGUARD_SANITIZED ON)
elseif(NOT _kguard_sanitize STREQUAL "off" AND NOT _kguard_sanitize STREQUAL "")
  message(FATAL_ERROR "KGUARD_SANITIZE=${KGUARD_SANITIZE}: use OFF, ON/address or thread")
endif()

# Coverage-guided fuzzing: instrument everything for libFuzzer (clang only).
if(KGUARD_FUZZ AND CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
