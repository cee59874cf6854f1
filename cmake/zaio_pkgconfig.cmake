# zaio_install_pc (TEMPLATE NAME): install TEMPLATE, a .pc.in whose
# @zaio_pc_*@ and @VAR@ are filled here, as ${libdir}/pkgconfig/NAME.pc.
#
# The .pc finds its prefix from where it lies (${pcfiledir}), so it works in
# any prefix `cmake --install --prefix` picks. Its Libs carry
# `-Wl,-rpath,${libdir}` unless the library directory is one the compiler
# and the dynamic loader search anyway (/usr/lib, /usr/lib/<multiarch>...):
# a program built with `$(pkg-config --libs NAME)` against a prefix such as
# /usr/local or $HOME/.local then runs without LD_LIBRARY_PATH or ldconfig.
# The prefix is known only at install time, so the choice is made then.
set (zaio_pc_system_libdirs ${CMAKE_C_IMPLICIT_LINK_DIRECTORIES} /lib /usr/lib /lib64 /usr/lib64)

function (zaio_install_pc template name)
    file (RELATIVE_PATH zaio_pc_to_prefix
        "${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig" "${CMAKE_INSTALL_PREFIX}")
    string (REGEX REPLACE "/$" "" zaio_pc_to_prefix "${zaio_pc_to_prefix}")
    set (zaio_pc_rpath "-Wl,-rpath,\${libdir} ")
    configure_file (${template} ${CMAKE_CURRENT_BINARY_DIR}/${name}.pc @ONLY)
    set (zaio_pc_rpath "")
    configure_file (${template} ${CMAKE_CURRENT_BINARY_DIR}/${name}-system.pc @ONLY)
    install (CODE "
        get_filename_component (zaio_libdir \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}\" ABSOLUTE)
        set (zaio_pc ${CMAKE_CURRENT_BINARY_DIR}/${name}.pc)
        if (\"\${zaio_libdir}\" MATCHES \"^(${zaio_pc_system_re})$\")
            set (zaio_pc ${CMAKE_CURRENT_BINARY_DIR}/${name}-system.pc)
        endif ()
        file (INSTALL DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig\"
            TYPE FILE RENAME ${name}.pc FILES \${zaio_pc})")
endfunction ()

list (REMOVE_DUPLICATES zaio_pc_system_libdirs)
string (REPLACE ";" "|" zaio_pc_system_re "${zaio_pc_system_libdirs}")

# msgpack-c's pkg-config name: msgpack (Debian 12), or msgpack-c.
set (zaio_pc_msgpack ${MSGPACK_MODULE_NAME})
if (NOT zaio_pc_msgpack)
    set (zaio_pc_msgpack msgpack)
endif ()
