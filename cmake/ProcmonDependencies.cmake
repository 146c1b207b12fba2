# What the optional parts of the build need (tests, benchmarks), checked
# before they are configured: when something is missing the configure fails
# with one message that names every Debian package to install and the
# option that turns off what needs it, instead of CMake's generic "could not
# find" for the first one. Included by the top-level CMakeLists.txt; reads
# PROCMON_BUILD_TESTS, PROCMON_BUILD_BENCH, PROCMON_BUILD_CLI and
# PROCMON_SANITIZE.

set(_procmon_missing "")   # one indented line per missing dependency
set(_procmon_packages "")  # the Debian packages that provide them
set(_procmon_options "")   # the options that turn off what needs them

# what: the missing thing; package: Debian's; needed_by: what uses it;
# ARGN: the options that turn those parts off.
function(_procmon_missing what package needed_by)
  list(JOIN ARGN " or " off)
  set(_procmon_missing "${_procmon_missing}  ${what}, for ${needed_by}: apt install ${package}  (or ${off})\n"
      PARENT_SCOPE)
  set(_procmon_packages ${_procmon_packages} ${package} PARENT_SCOPE)
  set(_procmon_options ${_procmon_options} ${ARGN} PARENT_SCOPE)
endfunction()

set(_procmon_tests_off -DPROCMON_BUILD_TESTS=OFF)
set(_procmon_bench_off -DPROCMON_BUILD_BENCH=OFF)

if(PROCMON_BUILD_TESTS OR PROCMON_BUILD_BENCH)
  find_package(PkgConfig QUIET)
  if(NOT PKG_CONFIG_FOUND)
    set(_off "")
    if(PROCMON_BUILD_TESTS)
      list(APPEND _off ${_procmon_tests_off})
    endif()
    if(PROCMON_BUILD_BENCH)
      list(APPEND _off ${_procmon_bench_off})
    endif()
    _procmon_missing("pkg-config" pkgconf "finding Criterion, cmocka and libproc2" ${_off})
  endif()
endif()

if(PROCMON_BUILD_TESTS)
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(CRITERION QUIET IMPORTED_TARGET criterion)
    if(NOT CRITERION_FOUND)
      _procmon_missing("Criterion (criterion.pc)" libcriterion-dev "the unit tests" ${_procmon_tests_off})
    endif()
    pkg_check_modules(CMOCKA QUIET IMPORTED_TARGET cmocka)
    if(NOT CMOCKA_FOUND)
      _procmon_missing("cmocka (cmocka.pc)" libcmocka-dev "the concurrency and fault tests" ${_procmon_tests_off})
    endif()
  endif()
  if(PROCMON_BUILD_CLI)
    find_program(PROCMON_JQ jq)
    if(NOT PROCMON_JQ)
      _procmon_missing("jq" jq "the CLI test" ${_procmon_tests_off})
    endif()
  endif()
  # the performance gate: a test of the benchmarks' build (bench/CMakeLists.txt)
  if(PROCMON_BUILD_BENCH AND NOT PROCMON_SANITIZE)
    find_program(PROCMON_VALGRIND valgrind)
    if(NOT PROCMON_VALGRIND)
      _procmon_missing("valgrind" valgrind "the performance gate (it counts instructions)"
                       ${_procmon_tests_off} ${_procmon_bench_off})
    endif()
    find_program(PROCMON_PYTHON3 python3)
    if(NOT PROCMON_PYTHON3)
      _procmon_missing("python3" python3 "the performance gate" ${_procmon_tests_off} ${_procmon_bench_off})
    endif()
  endif()
endif()

if(_procmon_missing)
  list(REMOVE_DUPLICATES _procmon_packages)
  list(REMOVE_DUPLICATES _procmon_options)
  list(JOIN _procmon_packages " " _packages)
  set(_off "")
  if(_procmon_tests_off IN_LIST _procmon_options)
    string(APPEND _off "  ${_procmon_tests_off} turns the tests off\n")
  endif()
  if(_procmon_bench_off IN_LIST _procmon_options)
    string(APPEND _off "  ${_procmon_bench_off} turns the benchmarks off\n")
  endif()
  # Lines that start with a space are printed as they are; CMake wraps the rest.
  message(FATAL_ERROR
    "procmon: what the tests or benchmarks need is not installed:\n"
    "${_procmon_missing}"
    "Install it all with\n"
    "  apt install ${_packages}\n"
    "(scripts/install-deps.sh installs everything procmon's build and tests use), "
    "or build without what needs it:\n"
    "${_off}")
endif()
