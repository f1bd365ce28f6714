# Read by cpack at packaging time. The package's paths are fixed when the build directory
# is configured (GNUInstallDirs maps /usr to /etc for the config, the unit names
# /usr/sbin/floodgate), so a .deb from a /usr/local build would put everything where
# Debian does not look. Refuse it instead.
if(CPACK_GENERATOR STREQUAL "DEB" AND NOT CPACK_PACKAGING_INSTALL_PREFIX STREQUAL "/usr")
  message(FATAL_ERROR "floodgate: the Debian package needs a build configured with "
    "-DCMAKE_INSTALL_PREFIX=/usr (this one has ${CPACK_PACKAGING_INSTALL_PREFIX})")
endif()
