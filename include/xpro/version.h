/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The release: the Makefile's VERSION (make deb) and xpro_build_info read it from here. */
#ifndef XPRO_VERSION_H
#define XPRO_VERSION_H

#define XPRO_VERSION "0.1.0"

#endif
