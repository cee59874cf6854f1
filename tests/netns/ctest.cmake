# Remote workers: the loopback failure test, the multi-host test in network
# namespaces, and the remote bench. Included by tests/CMakeLists.txt after
# its test_*.c programs are defined.
#
#   test_remote_*.c     (tests/, built there) also link the helper here,
#                       zaio_load (a mixed, checkable load), and with it
#                       tests/zaio_proc (daemons as children)
#   netns_remote        tests/netns/run.sh: broker, three workers and clients
#                       on five hosts (network namespaces); needs root, else
#                       SKIPPED (exit 77)
#   zaio_remote_bench   tcp throughput of remote workers against local threads

set (zaio_netns_dir ${PROJECT_SOURCE_DIR}/tests/netns)

add_library (zaio_remote_support STATIC ${zaio_netns_dir}/zaio_load.c)
target_include_directories (zaio_remote_support PUBLIC ${zaio_netns_dir})
target_link_libraries (zaio_remote_support PUBLIC zaio_proto zaio_proc)

file (GLOB zaio_remote_tests CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/test_remote_*.c)
foreach (source ${zaio_remote_tests})
    get_filename_component (name ${source} NAME_WE)
    target_link_libraries (${name} PRIVATE zaio_remote_support)
    add_dependencies (${name} zaio-broker zaio-worker)
    # Several daemons and thousands of jobs on a small machine: room to spare.
    set_tests_properties (${name} PROPERTIES TIMEOUT 240 LABELS "c;remote")
endforeach ()

add_executable (zaio_netns_load ${zaio_netns_dir}/netns_load.c)
target_link_libraries (zaio_netns_load PRIVATE zaio_remote_support)

add_executable (zaio_remote_bench ${zaio_netns_dir}/remote_bench.c)
target_link_libraries (zaio_remote_bench PRIVATE zaio_remote_support)
target_compile_definitions (zaio_remote_bench PRIVATE
    ZAIO_BROKER_BIN="$<TARGET_FILE:zaio-broker>"
    ZAIO_WORKER_BIN="$<TARGET_FILE:zaio-worker>")
add_dependencies (zaio_remote_bench zaio-broker zaio-worker)

add_test (NAME netns_remote
    COMMAND bash ${zaio_netns_dir}/run.sh
        $<TARGET_FILE:zaio-broker> $<TARGET_FILE:zaio-worker> $<TARGET_FILE:zaio_netns_load>
        $<TARGET_FILE:zaio-tool>)
# RUN_SERIAL: five hosts' worth of processes on two cores, and heartbeats
# that must not be starved by the rest of the suite.
set_tests_properties (netns_remote PROPERTIES
    TIMEOUT 300 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE LABELS "netns;remote")

# README.md's sections with commands across hosts, run as written on four
# hosts (network namespaces): Running on several hosts (a broker, three
# workers, a client) and Security (keys, grants, CURVE, a key rotation).
foreach (section "Running on several hosts" "Security")
    string (MAKE_C_IDENTIFIER "readme ${section}" name)
    string (TOLOWER ${name} name)
    add_test (NAME ${name}
        COMMAND bash ${zaio_netns_dir}/readme_hosts.sh ${section} ${PROJECT_SOURCE_DIR}/README.md
            $<TARGET_FILE_DIR:zaio-tool> $<TARGET_FILE_DIR:zaio-broker> $<TARGET_FILE_DIR:zaio-worker>)
    set_tests_properties (${name} PROPERTIES
        TIMEOUT 180 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE LABELS "netns;readme")
endforeach ()
