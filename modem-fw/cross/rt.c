/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The four functions a C compiler may call on its own even in a freestanding
 * build (struct copies, zeroing): what a vendor's libc would provide.
 * Nothing else of libc is linked; the nm check in modem-fw/Makefile proves it.
 */
#include <stddef.h>

void *memcpy(void *restrict d, const void *restrict s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

/*
 * volatile keeps the compiler from recognising these loops as memcpy and
 * memset, which would make them call themselves.
 */
void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
	volatile unsigned char *dp = d;
	const unsigned char *sp = s;

	while (n--)
		*dp++ = *sp++;
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	volatile unsigned char *dp = d;
	const unsigned char *sp = s;

	if (dp < sp) {
		while (n--)
			*dp++ = *sp++;
	} else {
		while (n--)
			dp[n] = sp[n];
	}
	return d;
}

void *memset(void *d, int c, size_t n)
{
	volatile unsigned char *dp = d;

	while (n--)
		*dp++ = (unsigned char)c;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *ap = a, *bp = b;

	for (; n; n--, ap++, bp++)
		if (*ap != *bp)
			return *ap - *bp;
	return 0;
}

/* The ARM EABI names clang calls for the same work (RTABI section 4.3.4). */
void __aeabi_memcpy(void *d, const void *s, size_t n);
void __aeabi_memcpy4(void *d, const void *s, size_t n);
void __aeabi_memcpy8(void *d, const void *s, size_t n);
void __aeabi_memmove(void *d, const void *s, size_t n);
void __aeabi_memset(void *d, size_t n, int c);
void __aeabi_memclr(void *d, size_t n);
void __aeabi_memclr4(void *d, size_t n);
void __aeabi_memclr8(void *d, size_t n);

void __aeabi_memcpy(void *d, const void *s, size_t n)
{
	memcpy(d, s, n);
}

void __aeabi_memcpy4(void *d, const void *s, size_t n)
{
	memcpy(d, s, n);
}

void __aeabi_memcpy8(void *d, const void *s, size_t n)
{
	memcpy(d, s, n);
}

void __aeabi_memmove(void *d, const void *s, size_t n)
{
	memmove(d, s, n);
}

void __aeabi_memset(void *d, size_t n, int c)
{
	memset(d, c, n);
}

void __aeabi_memclr(void *d, size_t n)
{
	memset(d, 0, n);
}

void __aeabi_memclr4(void *d, size_t n)
{
	memset(d, 0, n);
}

void __aeabi_memclr8(void *d, size_t n)
{
	memset(d, 0, n);
}
