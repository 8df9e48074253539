// SPDX-License-Identifier: GPL-2.0
/* Reading an mmapable BPF array a few pages at a time (map_window.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "map_window.h"

static size_t gcd(size_t a, size_t b)
{
	while (b) {
		size_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* window w's length: the last one ends with the array */
static size_t window_len(const struct map_window *m, size_t w)
{
	size_t left = m->map_bytes - w * m->window_bytes;

	return left < m->window_bytes ? left : m->window_bytes;
}

int map_window_open(struct map_window *m, int fd, size_t value_size, size_t entries)
{
	size_t page = sysconf(_SC_PAGESIZE);

	memset(m, 0, sizeof(*m));
	if (!value_size || !entries)
		return -EINVAL;
	m->fd = fd;
	m->entry_size = (value_size + 7) & ~(size_t)7;
	m->entries = entries;
	/* the least multiple of both the entry and the page */
	m->window_bytes = m->entry_size / gcd(m->entry_size, page) * page;
	m->per_window = m->window_bytes / m->entry_size;
	m->map_bytes = (m->entry_size * entries + page - 1) & ~(page - 1);
	m->nwindows = (entries + m->per_window - 1) / m->per_window;
	m->windows = calloc(m->nwindows, sizeof(*m->windows));
	return m->windows ? 0 : -ENOMEM;
}

const void *map_window_at(struct map_window *m, size_t i)
{
	size_t w = i / m->per_window;

	if (i >= m->entries) {
		errno = EINVAL;
		return NULL;
	}
	if (!m->windows[w]) {
		void *p = mmap(NULL, window_len(m, w), PROT_READ, MAP_SHARED, m->fd,
			       w * m->window_bytes);

		if (p == MAP_FAILED)
			return NULL;
		m->windows[w] = p;
		m->mapped++;
	}
	return (const char *)m->windows[w] + (i % m->per_window) * m->entry_size;
}

void map_window_close(struct map_window *m)
{
	for (size_t w = 0; m->windows && w < m->nwindows; w++)
		if (m->windows[w])
			munmap(m->windows[w], window_len(m, w));
	free(m->windows);
	m->windows = NULL;
}
