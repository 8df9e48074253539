// SPDX-License-Identifier: GPL-2.0
/*
 * The baseline heapstat's inventory is measured against: read every
 * /proc/<pid>/fdinfo/<fd>, as a tool without BPF must, and count the dma-bufs
 * (files whose fdinfo has an exp_name line). Prints "dmabufs=N".
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	DIR *proc = opendir("/proc");
	struct dirent *p;
	long dmabufs = 0;
	char path[600], buf[4096];

	if (!proc)
		return 1;
	while ((p = readdir(proc))) {
		DIR *fds;
		struct dirent *f;

		if (p->d_name[0] < '1' || p->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fdinfo", p->d_name);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((f = readdir(fds))) {
			ssize_t n;
			int fd;

			if (f->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/fdinfo/%s", p->d_name, f->d_name);
			fd = open(path, O_RDONLY);
			if (fd < 0)
				continue;
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			if (n > 0) {
				buf[n] = '\0';
				dmabufs += strstr(buf, "\nexp_name:") != NULL;
			}
		}
		closedir(fds);
	}
	closedir(proc);
	printf("dmabufs=%ld\n", dmabufs);
	return 0;
}
