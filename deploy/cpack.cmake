# `cpack -G DEB` in a build directory configured with -DCMAKE_INSTALL_PREFIX=/usr builds
# floodgate_VERSION_ARCH.deb for Debian 12: /usr/sbin/floodgate, /usr/sbin/floodgatectl,
# man pages, /etc/floodgate/floodgate.toml (a conffile), the systemd unit (installed, not
# enabled or started) and the examples. Included from the root CMakeLists.txt.
set(CPACK_PACKAGE_NAME floodgate)
set(CPACK_PACKAGE_VENDOR floodgate)
set(CPACK_PACKAGE_CONTACT "floodgate maintainers <root@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Postfix milter limiting what each account and client may send")
set(CPACK_PACKAGE_DESCRIPTION
  "floodgate counts what every authenticated account, client address and envelope sender
submits through Postfix, in memory or in Redis shared by all Postfix hosts, and tempfails
or rejects what goes over the configured limits, so a hijacked account cannot turn the
server into a spam cannon.")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_PROJECT_CONFIG_FILE ${CMAKE_CURRENT_LIST_DIR}/cpack-project.cmake)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION mail)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Runtime libraries of both programs on Debian 12 (ldd build/milter/floodgate, dpkg -S).
# adduser: the postinst creates the system user floodgate.
set(CPACK_DEBIAN_PACKAGE_DEPENDS
  "libc6 (>= 2.34), libstdc++6 (>= 12), libgcc-s1, libmilter1.0.1, libhiredis0.14, libfmt9, adduser")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "postfix, redis-server, fail2ban")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CMAKE_CURRENT_LIST_DIR}/debian/conffiles
  ${CMAKE_CURRENT_LIST_DIR}/debian/postinst
  ${CMAKE_CURRENT_LIST_DIR}/debian/prerm
  ${CMAKE_CURRENT_LIST_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
