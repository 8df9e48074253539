// SPDX-License-Identifier: GPL-2.0
/* JSON output helpers. */
#include "inventory.h"
#include "json.h"

/* A quoted JSON string; control characters escaped, UTF-8 passed through. */
void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* one process of the inventory: {pid, comm, cgroup, fd_bytes, map_bytes, pss_bytes, buffers} */
void json_process(FILE *f, const struct inv_proc *p)
{
	fprintf(f, "{\"pid\":%d,\"comm\":", p->pid);
	json_string(f, p->comm);
	fprintf(f, ",\"cgroup\":");
	json_string(f, p->cgroup);
	fprintf(f, ",\"fd_bytes\":%llu,\"map_bytes\":%llu,\"pss_bytes\":%llu,\"buffers\":%u}",
		(unsigned long long)p->fd_bytes, (unsigned long long)p->map_bytes,
		(unsigned long long)p->pss_bytes, p->buffers);
}
