/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HEAPSTAT_LIGHT_LOAD_H
#define HEAPSTAT_LIGHT_LOAD_H

#include <stddef.h>
#include <bpf/libbpf.h>

/*
 * An object loaded as a light skeleton is, by a loader program libbpf makes
 * now (what `bpftool gen skeleton -L` makes at build time), run by
 * lskel_run(). Its maps are the object's (their fds given to libbpf, global
 * data mapped where the skeleton reads it); its programs' fds and links
 * are kept here, libbpf has none.
 */
struct light {
	int *prog_fd;		/* per program of the object, in its order; -1: not loaded */
	int *link_fd;		/* and its link, -1: none */
	size_t nprogs;
};

/* load @obj, opened and set up as for bpf_object__load(); 0 or a negative errno */
int light_load(struct light *l, struct bpf_object *obj);
/* attach one loaded program, @prog, if it is not; 0 or a negative errno (-ENOENT: not loaded) */
int light_attach_prog(struct light *l, struct bpf_object *obj, const struct bpf_program *prog);
/* @prog's fd, -1 when not loaded */
int light_prog_fd(const struct light *l, struct bpf_object *obj, const struct bpf_program *prog);
/* close the programs and links (the maps are the object's) */
void light_close(struct light *l);

#endif
