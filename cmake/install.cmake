# `make install` (H7DFU_INSTALL=ON, a release tree of its own): libh7dfu as one
# shared library (SONAME libh7dfu.so.0) and one static library built from the
# objects of the host modules (host/usb, proto, plan, image, and core/flash,
# core/util and the STM32H743's maps from target/stm32h743, which they use),
# its public headers under include/h7dfu/, h7dfu.pc, the programs h7dfu and
# h7dfu-sim, the man page, udev rules and bash completion. `make uninstall`
# removes what install_manifest.txt lists.
include(GNUInstallDirs)

set(H7DFU_LIB_MODULES h7_usb h7_proto h7_plan h7_image h7_flash h7_util h7_target)
set(H7DFU_LIB_OBJECTS "")
foreach(m ${H7DFU_LIB_MODULES})
    list(APPEND H7DFU_LIB_OBJECTS $<TARGET_OBJECTS:${m}>)
endforeach()

# Only the h7_* functions are exported from the shared library.
set(H7DFU_LIB_MAP ${CMAKE_SOURCE_DIR}/dist/libh7dfu.map)
add_library(h7dfu_shared SHARED ${H7DFU_LIB_OBJECTS})
set_target_properties(h7dfu_shared PROPERTIES OUTPUT_NAME h7dfu VERSION ${PROJECT_VERSION}
                                              SOVERSION 0 LINK_DEPENDS ${H7DFU_LIB_MAP})
pkg_check_modules(H7DFU_LIBUSB REQUIRED IMPORTED_TARGET libusb-1.0)
target_link_libraries(h7dfu_shared PRIVATE PkgConfig::H7DFU_LIBUSB)
target_link_options(h7dfu_shared PRIVATE -Wl,--version-script=${H7DFU_LIB_MAP} -Wl,--no-undefined)
add_dependencies(h7dfu_shared ${H7DFU_LIB_MODULES})

add_library(h7dfu_static STATIC ${H7DFU_LIB_OBJECTS})
set_target_properties(h7dfu_static PROPERTIES OUTPUT_NAME h7dfu)
add_dependencies(h7dfu_static ${H7DFU_LIB_MODULES})

set(H7DFU_PUBLIC_HEADERS
    ${CMAKE_SOURCE_DIR}/host/h7dfu.h ${CMAKE_SOURCE_DIR}/host/usb/h7_usb.h
    ${CMAKE_SOURCE_DIR}/host/proto/h7_transport.h ${CMAKE_SOURCE_DIR}/host/proto/h7_dfu.h
    ${CMAKE_SOURCE_DIR}/host/proto/h7_error.h ${CMAKE_SOURCE_DIR}/host/proto/h7_ops.h
    ${CMAKE_SOURCE_DIR}/host/image/h7_image.h ${CMAKE_SOURCE_DIR}/host/plan/h7_plan.h
    ${CMAKE_SOURCE_DIR}/host/plan/h7_layout.h ${CMAKE_SOURCE_DIR}/core/util/h7_util.h)

# h7dfu.pc: the prefix is the one given at install time (cmake --install
# --prefix), so one tree installs anywhere.
set(H7DFU_PC_PREFIX "@H7DFU_PC_PREFIX@") # kept for the install step
configure_file(${CMAKE_SOURCE_DIR}/dist/h7dfu.pc.in ${CMAKE_BINARY_DIR}/h7dfu.pc.in @ONLY)
install(CODE "
    set(H7DFU_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
    configure_file(\"${CMAKE_BINARY_DIR}/h7dfu.pc.in\" \"${CMAKE_BINARY_DIR}/h7dfu.pc\" @ONLY)
")

# udev reads /etc/udev/rules.d and /usr/lib/udev/rules.d, not the prefix's
# lib/: the rules go to /etc/udev/rules.d unless UDEVRULESDIR says otherwise.
set(H7DFU_UDEVRULESDIR /etc/udev/rules.d CACHE PATH "Where the udev rules go")

install(TARGETS h7dfu h7dfu-sim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS h7dfu_shared h7dfu_static LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
                                          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${H7DFU_PUBLIC_HEADERS} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/h7dfu)
install(FILES ${CMAKE_BINARY_DIR}/h7dfu.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
install(FILES ${CMAKE_SOURCE_DIR}/docs/h7dfu.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${CMAKE_SOURCE_DIR}/dist/udev/70-h7dfu.rules DESTINATION ${H7DFU_UDEVRULESDIR})
# The group variant (headless rigs, CI runners): copied by hand when wanted.
install(FILES ${CMAKE_SOURCE_DIR}/dist/udev/70-h7dfu-group.rules
              ${CMAKE_SOURCE_DIR}/docs/library.md ${CMAKE_SOURCE_DIR}/LICENSE
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${CMAKE_SOURCE_DIR}/dist/bash-completion/h7dfu
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
