# The Python binding's suite (included from tests/CMakeLists.txt): a fresh
# venv in the build tree, `pip install bindings/python[test]` with pinned
# versions, then pytest against the zaio-broker just built.
add_test (NAME python_binding
    COMMAND ${CMAKE_COMMAND} -E env "ZAIO_BROKER=$<TARGET_FILE:zaio-broker>"
            sh ${CMAKE_CURRENT_LIST_DIR}/run-tests.sh ${CMAKE_BINARY_DIR}/bindings/python)
set_tests_properties (python_binding PROPERTIES TIMEOUT 600 LABELS python)
