/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpro-proxy: parse the configuration, set up the process (log, locked
 * memory, signals, RCU), start in stages (setup.c), run the control loop
 * (loop.c) until SIGINT or SIGTERM, then undo the stages.
 */
#include <sys/resource.h>
#include <urcu.h>

#include "control/proxy/config.h"
#include "control/proxy/run.h"

int main(int argc, char **argv)
{
	static struct px_state s;
	int rc = px_parse_args(argc, argv, &s.cfg);

	if (rc)
		return rc > 0 ? 0 : 2;
	s.cfg_given = s.cfg;
	px_log_init(px_config_log_level(&s.cfg));
	setrlimit(RLIMIT_MEMLOCK, &(struct rlimit){ RLIM_INFINITY, RLIM_INFINITY });
	px_signals_init();
	rcu_register_thread();
	s.started_ns = xf_now_ns();
	rc = px_setup(&s);
	if (!rc) {
		px_loop_run(&s);
		px_teardown(&s);
	}
	rcu_unregister_thread();
	return rc ? 1 : 0;
}
