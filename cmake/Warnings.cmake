function(kguard_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual
                                           -Wformat=2)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 reports false -Wrestrict and -Wmaybe-uninitialized on std::string
    # and std::optional at -O3 (GCC bugs 105329, 105562); clang builds keep them.
    target_compile_options(${target} PRIVATE -Wno-restrict -Wno-maybe-uninitialized)
    # In a unity batch every .cpp is an included file, and GCC takes a class holding a type of its
    # own file's anonymous namespace for one declared in a header (cmake/Unity.cmake); the other
    # builds keep the warning.
    if(CMAKE_UNITY_BUILD)
      target_compile_options(${target} PRIVATE -Wno-subobject-linkage)
    endif()
  endif()
  if(KGUARD_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
