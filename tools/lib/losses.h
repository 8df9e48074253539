/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the collector lost, said the same way by every command: a "losses"
 * object in JSON, and in words, by cause (the ring buffer full, or which
 * map), with what each cause leaves inexact.
 */
#ifndef HEAPSTAT_LOSSES_LIB_H
#define HEAPSTAT_LOSSES_LIB_H

#include <stdbool.h>
#include <stddef.h>

#include "collector.h"
#include "json.h"

void losses_json(struct json *j, const struct coll_losses *l);
bool losses_text(const struct coll_losses *l, char *buf, size_t len);

#endif
