/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Not linked into the image: arrays whose symbol sizes (llvm-nm -S) are the
 * target's sizeof of the context and of one proxy entry, for the BENCH line.
 */
#include "mfw.h"

const char mfw_sizeof_ctx[sizeof(struct mfw_ctx)] = { 0 };
const char mfw_sizeof_proxy[sizeof(struct mfw_proxy)] = { 0 };
