# Compiler and linker flag probes for dispatch-mcp.
#
# DISPATCH_ADD_CFLAG(VAR, FLAG): append FLAG to VAR when the compiler
# accepts it without a warning (clang only warns on some unknown flags,
# and a flag for another target, such as -fcf-protection on arm64, is an
# error with gcc).
AC_DEFUN([DISPATCH_ADD_CFLAG], [
	AS_VAR_PUSHDEF([cache], [dispatch_cv_cflag_$2])
	AC_CACHE_CHECK([whether $CC accepts $2], [cache], [
		dispatch_save_CFLAGS=$CFLAGS
		CFLAGS="$CFLAGS -Werror $2"
		AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
		    [AS_VAR_SET([cache], [yes])], [AS_VAR_SET([cache], [no])])
		CFLAGS=$dispatch_save_CFLAGS])
	AS_VAR_IF([cache], [yes], [$1="$$1 $2"])
	AS_VAR_POPDEF([cache])])

# DISPATCH_ADD_LDFLAG(VAR, FLAG): the same for the linker.
AC_DEFUN([DISPATCH_ADD_LDFLAG], [
	AS_VAR_PUSHDEF([cache], [dispatch_cv_ldflag_$2])
	AC_CACHE_CHECK([whether the linker accepts $2], [cache], [
		dispatch_save_LDFLAGS=$LDFLAGS
		LDFLAGS="$LDFLAGS -Werror $2"
		AC_LINK_IFELSE([AC_LANG_PROGRAM([], [])],
		    [AS_VAR_SET([cache], [yes])], [AS_VAR_SET([cache], [no])])
		LDFLAGS=$dispatch_save_LDFLAGS])
	AS_VAR_IF([cache], [yes], [$1="$$1 $2"])
	AS_VAR_POPDEF([cache])])

# DISPATCH_FORTIFY(VAR): append -D_FORTIFY_SOURCE=3, or =2 where the C
# library knows no level 3, unless the compiler or the packager's
# CPPFLAGS already define it (Debian's dpkg-buildflags, Fedora's
# redhat-rpm-config and Ubuntu's gcc all do): defining it twice is a
# "redefined" warning, an error under --enable-werror.  Nothing is added
# where fortification would warn (no optimisation, or a C library
# without it).
AC_DEFUN([DISPATCH_FORTIFY], [
	AC_CACHE_CHECK([whether _FORTIFY_SOURCE is already defined],
	    [dispatch_cv_fortify_preset], [
		AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[
#ifndef _FORTIFY_SOURCE
#error not defined
#endif
]], [])], [dispatch_cv_fortify_preset=yes],
		    [dispatch_cv_fortify_preset=no])])
	AS_IF([test "x$dispatch_cv_fortify_preset" = xno], [
		AC_CACHE_CHECK([which _FORTIFY_SOURCE level to use],
		    [dispatch_cv_fortify_level], [
			dispatch_cv_fortify_level=none
			dispatch_save_CPPFLAGS=$CPPFLAGS
			dispatch_save_CFLAGS=$CFLAGS
			for dispatch_level in 3 2; do
				CPPFLAGS="$dispatch_save_CPPFLAGS -D_FORTIFY_SOURCE=$dispatch_level"
				CFLAGS="$dispatch_save_CFLAGS -Werror"
				AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[
#include <string.h>
#if !defined __USE_FORTIFY_LEVEL || __USE_FORTIFY_LEVEL < $dispatch_level
#error this level is not in effect
#endif
]], [])], [dispatch_cv_fortify_level=$dispatch_level; break])
			done
			CPPFLAGS=$dispatch_save_CPPFLAGS
			CFLAGS=$dispatch_save_CFLAGS])
		AS_IF([test "x$dispatch_cv_fortify_level" != xnone],
		    [$1="$$1 -D_FORTIFY_SOURCE=$dispatch_cv_fortify_level"])])])
