# The Python binding's suite (included from tests/CMakeLists.txt): a fresh
# venv in the build tree, `pip install bindings/python[test]` with pinned
# versions, then pytest against the zaio-broker just built (and the zaio
# tool, whose keygen makes the CURVE tests' certificates).
add_test (NAME python_binding
    COMMAND ${CMAKE_COMMAND} -E env "ZAIO_BROKER=$<TARGET_FILE:zaio-broker>"
            "ZAIO_TOOL=$<TARGET_FILE:zaio-tool>"
            sh ${CMAKE_CURRENT_LIST_DIR}/run-tests.sh ${CMAKE_BINARY_DIR}/bindings/python)
set_tests_properties (python_binding PROPERTIES TIMEOUT 600 LABELS python)

# The same tests with the distribution's python3-zmq, python3-msgpack and
# python3-pytest (the oldest versions the package supports); skipped where
# they are not installed.
add_test (NAME python_binding_system
    COMMAND ${CMAKE_COMMAND} -E env "ZAIO_BROKER=$<TARGET_FILE:zaio-broker>"
            "ZAIO_TOOL=$<TARGET_FILE:zaio-tool>"
            sh ${CMAKE_CURRENT_LIST_DIR}/run-tests.sh --system)
set_tests_properties (python_binding_system PROPERTIES TIMEOUT 600 LABELS python
    SKIP_RETURN_CODE 77)
