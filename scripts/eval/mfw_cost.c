/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Experiment 4's host driver: the modem library on the fake platform of
 * tests/modem/ (fake clock, UDP and flash; libsodium as the AEAD), sealing N
 * inner packets of SIZE bytes, plaintext or encrypted (after a probe reply
 * with ENC_OK).  Run under callgrind with --toggle-collect=mfw_send, the
 * instruction count divided by N is the cost of one packet on this host.
 *   mfw_cost plain|enc N SIZE
 * Prints the datagram length so that the caller can check the overhead.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mfw_fake.h"
#include "xpro/tunnel.h"

int main(int argc, char **argv)
{
	static struct fake f;
	static uint8_t buf[2048];
	struct mfw_config cfg;
	unsigned long n, size;
	int enc, len = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: mfw_cost plain|enc N SIZE\n");
		return 2;
	}
	enc = !strcmp(argv[1], "enc");
	n = strtoul(argv[2], NULL, 10);
	size = strtoul(argv[3], NULL, 10);
	if (size < 20 || MFW_SEND_BUFLEN(size) > sizeof(buf))
		return 2;
	fake_init(&f);
	mfw_config_default(&cfg, 1);
	cfg.encrypt = enc ? MFW_ENC_PREFER : MFW_ENC_OFF;
	if (fake_boot(&f, &cfg, 1))
		return 1;
	if (enc) {
		mfw_poll(&f.ctx); /* the first probe */
		if (fake_answer(&f, 0, XPRO_REPLY_F_ENC_OK, 100))
			return 1;
	}
	memset(buf, 0x45, sizeof(buf));
	for (unsigned long i = 0; i < n; i++) {
		buf[XPRO_TUN_HDR_LEN] = 0x45; /* an IPv4 header's first byte */
		len = mfw_send(&f.ctx, buf, sizeof(buf), size);
		if (len < 0) {
			fprintf(stderr, "mfw_send: %d\n", len);
			return 1;
		}
	}
	printf("%s %lu %lu %d\n", argv[1], n, size, len);
	return 0;
}
