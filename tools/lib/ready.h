/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HEAPSTAT_READY_H
#define HEAPSTAT_READY_H

/*
 * Tell whoever started a command that stays (export, top, report -d,
 * record, limit events -f) that it now sees what it is to see, as
 * sd_notify(3) does: "READY=1" to the socket $NOTIFY_SOCKET names. Nothing
 * without it. @cmd names the command in a warning; @status is one line for
 * systemctl status.
 */
void ready_notify(const char *cmd, const char *status);

#endif
