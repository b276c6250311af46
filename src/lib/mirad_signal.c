/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <signal.h>
#include <string.h>

#include "mirad_signal.h"

static volatile sig_atomic_t pending;
static void (*hooks[8])(void);
static size_t nhooks;

static void
on_signal(int sig)
{
	if (pending == 0)
		pending = sig;
}

void
mirad_signal_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	mirad_signal_ignore_file_limits();
}

void
mirad_signal_ignore_file_limits(void)
{
	/* Over a file-size limit (ulimit -f), let write() fail with EFBIG so
	 * the tool reports it and cleans up, instead of dying mid-file. */
	signal(SIGXFSZ, SIG_IGN);
}

int
mirad_signal_pending(void)
{
	return pending;
}

void
mirad_signal_reraise(void)
{
	int sig = pending;

	if (sig == 0)
		return;
	while (nhooks > 0)
		hooks[--nhooks]();
	signal(sig, SIG_DFL);
	raise(sig);
}

int
mirad_signal_at_reraise(void (*fn)(void))
{
	for (size_t i = 0; i < nhooks; i++)
		if (hooks[i] == fn)
			return 0;
	if (nhooks == sizeof hooks / sizeof *hooks)
		return -1;
	hooks[nhooks++] = fn;
	return 0;
}
