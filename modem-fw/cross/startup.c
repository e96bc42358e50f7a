/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The least a Cortex-M needs to run the demo: a vector table with the stack
 * top and the reset handler, which copies .data from flash, zeroes .bss and
 * calls main.  Every other exception spins (a real port brings its own).
 */
#include <stdint.h>

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);
void mfw_reset(void);

static void spin(void)
{
	for (;;)
		;
}

__attribute__((section(".isr_vector"), used)) static void (*const vectors[16])(void) = {
	(void (*)(void)) & _estack,
	mfw_reset,
	spin,
	spin,
	spin,
	spin,
	spin,
	0,
	0,
	0,
	0,
	spin,
	spin,
	0,
	spin,
	spin,
};

void mfw_reset(void)
{
	uint32_t *s = &_sidata, *d = &_sdata;

	while (d < &_edata)
		*d++ = *s++;
	for (d = &_sbss; d < &_ebss;)
		*d++ = 0;
	main();
	spin();
}
