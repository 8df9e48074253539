/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HEAPSTAT_H
#define HEAPSTAT_H

#ifndef HEAPSTAT_VERSION
#define HEAPSTAT_VERSION "0.1"
#endif

#include <argp.h>

/* -v and -V in a command's options, as before it (heapstat -v COMMAND): argp children */
extern const struct argp_child heapstat_common_options[];

/* subcommands: each returns the process exit status */
int cmd_report(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_limit(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_export(int argc, char **argv);

#endif
