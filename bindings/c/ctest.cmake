# libzaio and zaio tool tests, included by tests/CMakeLists.txt.
#
# tests/test_client_*.c and tests/test_cli_*.c are built there like every
# test_*.c; here they also link libzaio and learn where the binaries are.

set (zaio_broker_bin $<TARGET_FILE:zaio-broker>)

file (GLOB zaio_client_tests CONFIGURE_DEPENDS
    ${PROJECT_SOURCE_DIR}/tests/test_client_*.c
    ${PROJECT_SOURCE_DIR}/tests/test_cli_*.c)
foreach (source ${zaio_client_tests})
    get_filename_component (name ${source} NAME_WE)
    target_link_libraries (${name} PRIVATE zaio)
    target_compile_definitions (${name} PRIVATE
        ZAIO_TOOL_BIN="$<TARGET_FILE:zaio-tool>"
        ZAIO_BROKER_BIN="${zaio_broker_bin}"
        ZAIO_EXAMPLE_EPOLL_BIN="$<TARGET_FILE:zaio_example_epoll>")
    add_dependencies (${name} zaio-tool zaio-broker zaio_example_epoll)
    set_tests_properties (${name} PROPERTIES TIMEOUT 60)
endforeach ()

# The zaio tool, run as a program against the zaio-broker daemon.
foreach (script commands bigfile meter watch_broker)
    add_test (NAME test_cli_${script}
        COMMAND bash ${PROJECT_SOURCE_DIR}/tests/test_cli_${script}.sh
                $<TARGET_FILE:zaio-tool> $<TARGET_FILE:zaio-broker>)
    set_tests_properties (test_cli_${script} PROPERTIES TIMEOUT 120 LABELS "c;cli")
endforeach ()

# zaio top in a tmux session against a loaded broker, and zaio stats.
add_test (NAME test_cli_top
    COMMAND bash ${PROJECT_SOURCE_DIR}/tests/test_cli_top.sh
            $<TARGET_FILE:zaio-tool> $<TARGET_FILE:zaio-broker> $<TARGET_FILE:zaio-worker>)
set_tests_properties (test_cli_top PROPERTIES TIMEOUT 120 LABELS "c;cli")

# zaio(1) and the bash completion against `zaio --help`.
add_test (NAME test_cli_docs
    COMMAND bash ${PROJECT_SOURCE_DIR}/tests/test_cli_docs.sh
            $<TARGET_FILE:zaio-tool> ${PROJECT_SOURCE_DIR})
set_tests_properties (test_cli_docs PROPERTIES TIMEOUT 60 LABELS "c;cli")

# CURVE, against a plain and a CURVE broker, with zaio-worker too.
add_test (NAME test_cli_curve
    COMMAND bash ${PROJECT_SOURCE_DIR}/tests/test_cli_curve.sh
            $<TARGET_FILE:zaio-tool> $<TARGET_FILE:zaio-broker> $<TARGET_FILE:zaio-worker>)
set_tests_properties (test_cli_curve PROPERTIES TIMEOUT 180 LABELS "c;cli")

# Install into a temporary prefix and build the README's ten-line program
# against it with pkg-config.
add_test (NAME test_client_install
    COMMAND bash ${PROJECT_SOURCE_DIR}/tests/test_client_install.sh
            ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties (test_client_install PROPERTIES TIMEOUT 120 LABELS c)
if (ZAIO_SANITIZE)
    #  A sanitized libzaio links only into sanitized programs.
    set_tests_properties (test_client_install PROPERTIES
        ENVIRONMENT "CFLAGS=${ZAIO_SANITIZE_FLAG}")
endif ()

# libzaio.so exports exactly bindings/c/libzaio.abi, none of zaio's
# internals, and its installed headers name none of them either.
add_test (NAME test_client_abi
    COMMAND bash ${PROJECT_SOURCE_DIR}/tests/test_client_abi.sh
            $<TARGET_FILE:zaio> ${PROJECT_SOURCE_DIR}/bindings/c/libzaio.abi ${PROJECT_BINARY_DIR})
set_tests_properties (test_client_abi PROPERTIES TIMEOUT 60 LABELS c)

# libzaio-broker.so exports exactly broker/libzaio-broker.map, nothing of
# libzaio's, and libzaio nothing of the broker's.
add_test (NAME test_broker_abi
    COMMAND bash ${PROJECT_SOURCE_DIR}/tests/test_broker_abi.sh
            $<TARGET_FILE:zaio_broker_shared> ${PROJECT_SOURCE_DIR}/broker/libzaio-broker.map
            $<TARGET_FILE:zaio>)
set_tests_properties (test_broker_abi PROPERTIES TIMEOUT 60 LABELS c)

# The README's install, from a fresh clone of the committed HEAD: the
# programs, pkg-config, the embedded broker, the CMake package, man pages
# and completion, without LD_LIBRARY_PATH. It builds zaio once more (without
# its tests), so give it time.
add_test (NAME test_install_clone
    COMMAND bash ${PROJECT_SOURCE_DIR}/tests/test_install_clone.sh ${PROJECT_SOURCE_DIR})
set_tests_properties (test_install_clone PROPERTIES TIMEOUT 1200 LABELS "c;install")
