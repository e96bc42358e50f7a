/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The dataplane as the control side sees it: the one header src/control/
 * includes.  What is here is the public surface; everything else in
 * src/dataplane/ (the *_int.h headers, table.h, frame.h, devstate.h, the
 * allocator) is the dataplane's own business.
 *
 *   xpro/filter.h        the filter engine: Algorithm 2, the fair share, the
 *                        harvest/apply calls the sync layer uses
 *   dataplane/devtab.h   the device table: provisioned devices, their epochs
 *   dataplane/tunnel.h   the tunnel's sealer and authenticator (tun_seal,
 *                        tun_auth), over the protocol core in include/xpro/
 *   dataplane/xsk.h      AF_XDP sockets and their UMEM, one per queue
 *   dataplane/worker.h   the per-queue workers: authenticate, filter,
 *                        decapsulate, forward; their counters and queues to
 *                        the control thread
 *   dataplane/nexthop.h  next-hop MACs the control thread learns
 */
#ifndef XPRO_DATAPLANE_H
#define XPRO_DATAPLANE_H

#include "xpro/filter.h"
#include "dataplane/devtab.h"
#include "dataplane/nexthop.h"
#include "dataplane/tunnel.h"
#include "dataplane/worker.h"
#include "dataplane/xsk.h"

#endif /* XPRO_DATAPLANE_H */
