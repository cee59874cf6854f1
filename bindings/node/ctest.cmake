# The Node binding's suite (bindings/node/run-tests.sh) as one ctest entry.
# Included from tests/CMakeLists.txt. It runs `npm ci` into this folder's
# node_modules and `node --test` against the zaio-broker built here (and
# the zaio tool, whose keygen makes the CURVE tests' certificates).

add_test (NAME node_binding
          COMMAND ${CMAKE_COMMAND} -E env ZAIO_BROKER=$<TARGET_FILE:zaio-broker>
                  ZAIO_TOOL=$<TARGET_FILE:zaio-tool>
                  bash ${CMAKE_CURRENT_LIST_DIR}/run-tests.sh)
set_tests_properties (node_binding PROPERTIES
    TIMEOUT 600
    LABELS "node;binding"
    SKIP_RETURN_CODE 77)
