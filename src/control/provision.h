/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The provisioning file (docs/protocol.md "Provisioning file"): parsed into
 * plain struct tun_dev_conf entries and validated as a whole; the proxy
 * hands them to its device table, xpro-modem picks its own entry.  A file
 * with any error yields nothing, so nothing is applied from it.  Needs libc
 * only (the struct comes from dataplane/devtab.h, no code from there), so
 * that the device side links this file alone.
 */
#ifndef XPRO_CTL_PROVISION_H
#define XPRO_CTL_PROVISION_H

#include <stddef.h>

#include "dataplane/devtab.h"

#define PROV_MAX_DEVICES 1048576 /* the XDP device map's size (XPRO_MAX_DEVICES) */
#define PROV_MAX_FILE (256u << 20) /* bytes; a million devices need about 60 MB */

/*
 * Parse len bytes of text (need not be NUL-terminated; may hold anything) as
 * a provisioning file called name.  On success returns 0, with *conf a
 * malloc'd array (free() it; NULL when there are no devices) of *n entries in
 * file order.  On error returns -EINVAL (or -ENOMEM), sets *conf = NULL and
 * *n = 0, and writes the first error into err (when not NULL) as
 * "name:line: what 'bad value' (what was expected)", for example
 *   devices.conf:3: bad secret 'xyz' (expected 32 hex digits)
 * Any thread; no global state.
 */
int prov_parse(const char *name, const char *text, size_t len, struct tun_dev_conf **conf,
	       size_t *n, char *err, size_t errlen);

/*
 * The same for the file at path (messages name it as given).  I/O errors
 * return -errno with "path: strerror" in err.
 */
int prov_load_file(const char *path, struct tun_dev_conf **conf, size_t *n, char *err,
		   size_t errlen);

#endif
