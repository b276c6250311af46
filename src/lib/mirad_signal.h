/* SPDX-License-Identifier: MIT */
/*
 * Interrupt handling: SIGINT, SIGTERM and SIGHUP set a flag that long loops
 * check between records.  The tool then cleans up its temporary files and
 * calls mirad_signal_reraise(), so the parent sees 128+N.  SIGXFSZ is
 * ignored, so a file-size limit shows as a write error (EFBIG).
 */
#ifndef MIRAD_SIGNAL_H
#define MIRAD_SIGNAL_H

#include "mirad_platform.h"

void mirad_signal_install(void);
/* Only the SIGXFSZ part of mirad_signal_install(), for tools that write
 * files but have no interruptible loop. */
void mirad_signal_ignore_file_limits(void);
/* The number of the first signal received, or 0. */
int mirad_signal_pending(void);
/*
 * Run the cleanup hooks (last registered first), then restore the default
 * action of the pending signal and raise it.  Does nothing without a
 * pending signal.
 */
void mirad_signal_reraise(void);
/*
 * Have mirad_signal_reraise() call FN before the signal ends the process:
 * what an interrupted run must not leave behind (mirad_outdir registers
 * its abort here).  Registering FN twice keeps one entry; up to eight
 * hooks.  Returns 0, or -1 when they are all taken.
 */
int mirad_signal_at_reraise(void (*fn)(void));

#endif
