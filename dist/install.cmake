# Runs at install time (dist/CMakeLists.txt sets the ZAIO_DIST_* variables
# first), with CMAKE_INSTALL_PREFIX the install's prefix.

# A directory of the install: dir as it is if absolute, else under the
# prefix; etc under the prefix /usr is /etc, as GNUInstallDirs has it.
function (zaio_dist_dir out dir)
    if (IS_ABSOLUTE "${dir}")
        set (${out} "${dir}" PARENT_SCOPE)
    elseif (dir STREQUAL "etc" AND CMAKE_INSTALL_PREFIX STREQUAL "/usr")
        set (${out} "/etc" PARENT_SCOPE)
    else ()
        set (${out} "${CMAKE_INSTALL_PREFIX}/${dir}" PARENT_SCOPE)
    endif ()
endfunction ()

zaio_dist_dir (ZAIO_BINDIR "${ZAIO_DIST_BINDIR}")
zaio_dist_dir (zaio_sysconfdir "${ZAIO_DIST_SYSCONFDIR}")
set (ZAIO_CONFDIR "${zaio_sysconfdir}/zaio")
if (ZAIO_DIST_UNIT_DIR)
    set (zaio_unit_dir "${ZAIO_DIST_UNIT_DIR}")
else ()
    set (zaio_unit_dir "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
endif ()

foreach (unit zaio-broker.service zaio-worker.service)
    configure_file ("${ZAIO_DIST_SOURCE_DIR}/systemd/${unit}.in"
        "${ZAIO_DIST_BINARY_DIR}/systemd/${unit}" @ONLY)
    file (INSTALL "${ZAIO_DIST_BINARY_DIR}/systemd/${unit}" DESTINATION "${zaio_unit_dir}")
endforeach ()

foreach (config zaio-broker.cfg zaio-worker.cfg)
    if (EXISTS "$ENV{DESTDIR}${ZAIO_CONFDIR}/${config}")
        message (STATUS "Kept: $ENV{DESTDIR}${ZAIO_CONFDIR}/${config} (the example is in "
                        "share/doc/zaio/examples)")
    else ()
        file (INSTALL "${ZAIO_DIST_SOURCE_DIR}/config/${config}" DESTINATION "${ZAIO_CONFDIR}")
    endif ()
endforeach ()
