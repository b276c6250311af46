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
/* Restore the default action of the pending signal and raise it. */
void mirad_signal_reraise(void);

#endif
