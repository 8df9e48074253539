/* SPDX-License-Identifier: GPL-2.0 */
/*
 * heapstat export: the command (export.c), its HTTP server (http.c) and the
 * model turned into metric families (metrics.c).
 */
#ifndef HEAPSTAT_EXPORT_H
#define HEAPSTAT_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/collector.h"
#include "lib/live.h"
#include "lib/prom.h"

/* ---- metrics.c ---- */

/* the latency histogram's bounds: 2^k - 1 ns, k from 10 to 33 (1 us to 8.6 s), each
 * holding what lies below an edge of the collector's log-linear buckets, so that
 * each of its counts falls in one */
#define EXPORT_LAT_MIN_SHIFT	10
#define EXPORT_LAT_BUCKETS	24

struct export_metrics {
	unsigned int cgroup_depth;	/* deeper cgroups are summed into their ancestor */
	uint64_t max_series;		/* 0: no bound */
	/* what the last exposition left out */
	uint64_t rows;			/* the model's rows, before any was cut or folded */
	uint64_t series_cut;
	uint64_t cgroups_folded;
};

int export_metrics_write(struct export_metrics *m, struct prom *p, const struct live_frame *f,
			 struct collector *coll);
void export_metrics_self(struct prom *p, double scrape_s);

/* ---- http.c ---- */

#define HTTP_MAX_REQUEST	8192	/* bytes of a request line and headers */
#define HTTP_MAX_CLIENTS	32	/* connections served at once; more wait in the backlog */
#define HTTP_TIMEOUT_MS		10000	/* a client silent or slow this long is dropped */
#define HTTP_GRACE_MS		1000	/* nor is one not yet answered put out for a new one sooner */
#define HTTP_IDLE_MS		100	/* nor one that has sent nothing */
#define HTTP_ACCEPT_PAUSE_MS	100	/* out of file descriptors: accept again after this */

struct http_server;

/* what GET /metrics answers: a body (malloc()ed, handed over) and its type */
typedef int (*http_metrics_fn)(void *ctx, const char *accept, char **body, size_t *len,
			       const char **content_type);

int http_parse_addr(const char *s, void *sa, unsigned int *salen);
int http_open(struct http_server **out, const char *addr, char *why, size_t why_len);
int http_serve(struct http_server *s, int timeout_ms, http_metrics_fn fn, void *ctx);
void http_close(struct http_server *s);

#endif
