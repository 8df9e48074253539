// SPDX-License-Identifier: GPL-2.0
/*
 * Stacks for heapstat record (stacks.h). The collector's stack map keeps a
 * stack's return addresses by id; here an allocation's pair of ids (kernel,
 * user) and its process become frames: symbol, binary, build id, offset.
 * Each pair is symbolized once per process; stacks that come out the same
 * (one binary run many times) share one record.
 *
 * Caches: each process's executable mappings (read again when an address
 * falls outside them: a library loaded since), each ELF file's symbols and
 * build id, and the kernel's symbols, read once. A process gone before its
 * event is read loses its user frames' symbols, not the frames: they keep
 * their addresses, with an empty binary.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "lib/util.h"
#include "stacks.h"

#define MAX_FRAMES	(2 * COLL_STACK_DEPTH)
#define BUILD_ID_MAX	64		/* bytes; GNU's are 20 */

struct sym {
	uint64_t addr, size;		/* size 0: up to the next (kallsyms has none) */
	const char *name;
	const char *module;		/* kernel: "vmlinux" or the module's name */
};

struct elf_file {
	const char *path;		/* as the maps name it */
	uint64_t ino;
	bool ok;			/* opened and read */
	char build_id[2 * BUILD_ID_MAX + 1];
	struct sym *syms;		/* functions, by address */
	size_t nsyms;
	GElf_Phdr *loads;		/* PT_LOAD: file offset -> address */
	size_t nloads;
};

struct mapping {
	uint64_t start, end, off;
	struct elf_file *elf;		/* NULL: anonymous or not a file */
};

struct proc_maps {
	uint32_t pid;
	struct mapping *m;
	size_t n;
};

/* a pair of stack map ids of a process, and the record it became */
struct seen {
	uint32_t kid, uid, pid;
	uint32_t id;			/* 0: a free slot (ids start at 1) */
};

/* a written stack: its frames flattened into one key */
struct written {
	uint64_t hash;
	const char *key;
	uint32_t id;
};

struct stacks {
	char proc[64];
	struct arena strs;		/* names, paths, keys */
	struct sym *ksyms;
	size_t nksyms;
	bool ksyms_read;
	struct elf_file **elves;
	size_t nelves, elves_cap;
	struct proc_maps *procs;
	size_t nprocs, procs_cap;
	struct seen *seen;		/* open addressing, at most half full */
	size_t seen_cap, nseen;
	struct written *written;
	size_t nwritten, written_cap;
	uint32_t next_id;
};

static void read_kallsyms(struct stacks *s);

int stacks_new(struct stacks **out, const char *proc)
{
	struct stacks *s = calloc(1, sizeof(*s));

	*out = s;
	if (!s)
		return -ENOMEM;
	snprintf(s->proc, sizeof(s->proc), "%s", proc);
	elf_version(EV_CURRENT);
	read_kallsyms(s);	/* now: slow, and the first stack must not wait for it */
	return 0;
}

static int cmp_sym(const void *x, const void *y)
{
	const struct sym *a = x, *b = y;

	return (a->addr > b->addr) - (a->addr < b->addr);
}

/* the symbol covering @addr in a sorted table, NULL when none does */
static const struct sym *sym_at(const struct sym *v, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {		/* the first above addr */
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	if (v[lo - 1].size && addr >= v[lo - 1].addr + v[lo - 1].size)
		return NULL;
	return &v[lo - 1];
}

/* the kernel's text symbols, from kallsyms (root sees their addresses) */
static void read_kallsyms(struct stacks *s)
{
	char path[96], line[512], name[256], module[128];
	const char *vmlinux = "vmlinux";
	size_t cap = 0;
	FILE *f;

	s->ksyms_read = true;
	snprintf(path, sizeof(path), "%s/kallsyms", s->proc);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long addr;
		char type;
		int n;

		module[0] = '\0';
		n = sscanf(line, "%llx %c %255s [%127[^]]]", &addr, &type, name, module);
		if (n < 3 || !addr || !strchr("tTwW", type))
			continue;
		if (grow_array((void **)&s->ksyms, &cap, s->nksyms, sizeof(*s->ksyms)))
			break;
		s->ksyms[s->nksyms++] = (struct sym){
			.addr = addr, .name = arena_strdup(&s->strs, name),
			.module = module[0] ? arena_strdup(&s->strs, module) : vmlinux,
		};
	}
	fclose(f);
	sort_ordered(s->ksyms, s->nksyms, sizeof(*s->ksyms), cmp_sym);
}

/* the GNU build id of an ELF file, in hex, from its notes */
static void elf_build_id(Elf *e, char *out)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		GElf_Nhdr nh;
		size_t off = 0, name_off, desc_off;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		d = elf_getdata(scn, NULL);
		while (d && (off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
			const uint8_t *desc = (const uint8_t *)d->d_buf + desc_off;

			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
			    memcmp((const char *)d->d_buf + name_off, "GNU", 4) ||
			    !nh.n_descsz || nh.n_descsz > BUILD_ID_MAX)
				continue;
			for (size_t i = 0; i < nh.n_descsz; i++)
				sprintf(out + 2 * i, "%02x", desc[i]);
			return;
		}
	}
}

/*
 * A symbol table's string table, copied once (its last byte a NUL): the
 * symbols' names point into it. A copy per symbol took as many bytes as
 * the file chose, its symbols sharing one long name (or parts of it).
 */
static const char *elf_strtab(struct stacks *s, Elf *e, size_t ndx, size_t *size)
{
	Elf_Scn *scn = elf_getscn(e, ndx);
	Elf_Data *d;
	GElf_Shdr sh;
	char *copy;

	if (!scn || !gelf_getshdr(scn, &sh) || sh.sh_type != SHT_STRTAB)
		return NULL;
	d = elf_getdata(scn, NULL);
	if (!d || !d->d_buf || !d->d_size)
		return NULL;
	copy = arena_alloc(&s->strs, d->d_size + 1);
	if (!copy)
		return NULL;
	memcpy(copy, d->d_buf, d->d_size);
	copy[d->d_size] = '\0';
	*size = d->d_size;
	return copy;
}

/*
 * The functions of .symtab, or of .dynsym when it has none (a stripped
 * file): the first section of the type, the one a file may have (more, each
 * the same symbols again, were as many copies).
 */
static void elf_syms(struct stacks *s, struct elf_file *f, Elf *e)
{
	size_t cap = 0;

	for (int pass = 0; pass < 2 && !f->nsyms; pass++) {
		Elf_Scn *scn = NULL;
		bool read = false;

		while (!read && (scn = elf_nextscn(e, scn))) {
			const char *names = NULL;
			size_t names_size = 0;
			GElf_Shdr sh;
			Elf_Data *d;

			if (!gelf_getshdr(scn, &sh) ||
			    sh.sh_type != (pass ? SHT_DYNSYM : SHT_SYMTAB) || !sh.sh_entsize)
				continue;
			read = true;
			d = elf_getdata(scn, NULL);
			for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
				GElf_Sym sym;

				if (!gelf_getsym(d, i, &sym) ||
				    GELF_ST_TYPE(sym.st_info) != STT_FUNC || !sym.st_value ||
				    sym.st_shndx == SHN_UNDEF)
					continue;
				if (!names && !(names = elf_strtab(s, e, sh.sh_link, &names_size)))
					break;
				if (sym.st_name >= names_size || !names[sym.st_name])
					continue;
				if (grow_array((void **)&f->syms, &cap, f->nsyms, sizeof(*f->syms)))
					return;
				f->syms[f->nsyms++] = (struct sym){
					.addr = sym.st_value, .size = sym.st_size,
					.name = names + sym.st_name,
				};
			}
		}
	}
	sort_ordered(f->syms, f->nsyms, sizeof(*f->syms), cmp_sym);
}

/*
 * @path opened if it is the file mapped (inode @ino; 0: a map_files link,
 * the mapping's file itself): a regular file, never waited on. The process
 * names the path; it may have put a FIFO there (an open() that never
 * returns) or another file (a binary replaced or deleted, another mount
 * namespace's). -1 when not.
 */
static int open_mapped(const char *path, uint64_t ino)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;

	if (fd >= 0 && (fstat(fd, &st) || !S_ISREG(st.st_mode) || (ino && st.st_ino != ino))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/*
 * read an ELF file's loads, symbols and build id: the file mapped at
 * [@start, @end) itself (map_files: a deleted one too), else by its path
 * through the process's root, else by its path here
 */
static void elf_read(struct stacks *s, struct elf_file *f, uint32_t pid, uint64_t start,
		     uint64_t end)
{
	char path[4200];
	size_t nph;
	Elf *e;
	int fd;

	snprintf(path, sizeof(path), "%s/%u/map_files/%" PRIx64 "-%" PRIx64, s->proc, pid, start,
		 end);
	fd = open_mapped(path, 0);
	if (fd < 0) {
		snprintf(path, sizeof(path), "%s/%u/root%s", s->proc, pid, f->path);
		fd = open_mapped(path, f->ino);
	}
	if (fd < 0)
		fd = open_mapped(f->path, f->ino);
	if (fd < 0)
		return;
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (e && elf_kind(e) == ELF_K_ELF && !elf_getphdrnum(e, &nph)) {
		f->loads = calloc(nph + 1, sizeof(*f->loads));
		for (size_t i = 0; f->loads && i < nph; i++)
			if (gelf_getphdr(e, i, &f->loads[f->nloads]) &&
			    f->loads[f->nloads].p_type == PT_LOAD)
				f->nloads++;
		elf_build_id(e, f->build_id);
		elf_syms(s, f, e);
		f->ok = true;
	}
	elf_end(e);
	close(fd);
}

static struct elf_file *elf_of(struct stacks *s, const char *path, uint64_t ino, uint32_t pid,
			       uint64_t start, uint64_t end)
{
	struct elf_file *f;

	for (size_t i = 0; i < s->nelves; i++)
		if (s->elves[i]->ino == ino && !strcmp(s->elves[i]->path, path))
			return s->elves[i];
	if (grow_array((void **)&s->elves, &s->elves_cap, s->nelves, sizeof(*s->elves)))
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->path = arena_strdup(&s->strs, path);
	f->ino = ino;
	if (!f->path) {
		free(f);
		return NULL;
	}
	s->elves[s->nelves++] = f;
	elf_read(s, f, pid, start, end);
	return f;
}

/*
 * A process's executable file mappings, read again when @reread. All the
 * lines first, then the files: the process may exit meanwhile.
 */
static struct proc_maps *maps_of(struct stacks *s, uint32_t pid, bool reread)
{
	char path[96], line[4400], file[4097];
	struct proc_maps *p = NULL;
	const char **files = NULL;
	uint64_t *inos = NULL;
	size_t cap = 0, fcap = 0, icap = 0;
	FILE *f;

	for (size_t i = 0; i < s->nprocs && !p; i++)
		if (s->procs[i].pid == pid)
			p = &s->procs[i];
	if (p && !reread)
		return p;
	if (!p) {
		if (grow_array((void **)&s->procs, &s->procs_cap, s->nprocs, sizeof(*s->procs)))
			return NULL;
		p = &s->procs[s->nprocs++];
		*p = (struct proc_maps){ .pid = pid };
	}
	snprintf(path, sizeof(path), "%s/%u/maps", s->proc, pid);
	f = fopen(path, "re");
	if (!f)
		return p;	/* gone: what was read before stays */
	free(p->m);
	p->m = NULL;
	p->n = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end, off, ino;
		char perms[8];

		file[0] = '\0';
		if (sscanf(line, "%llx-%llx %7s %llx %*x:%*x %llu %4096[^\n]", &start, &end, perms,
			   &off, &ino, file) < 5 || perms[2] != 'x')
			continue;
		if (grow_array((void **)&p->m, &cap, p->n, sizeof(*p->m)) ||
		    grow_array((void **)&files, &fcap, p->n, sizeof(*files)) ||
		    grow_array((void **)&inos, &icap, p->n, sizeof(*inos)))
			break;
		/* a copy until its file is found: elf_of() keeps a new one's */
		files[p->n] = file[0] == '/' && ino ? strdup(file) : NULL;
		inos[p->n] = ino;
		p->m[p->n++] = (struct mapping){ .start = start, .end = end, .off = off };
	}
	fclose(f);
	for (size_t i = 0; i < p->n; i++) {
		p->m[i].elf = files[i] ? elf_of(s, files[i], inos[i], pid, p->m[i].start,
						p->m[i].end) : NULL;
		free((char *)files[i]);
	}
	free(files);
	free(inos);
	return p;
}

static const struct mapping *mapping_at(const struct proc_maps *p, uint64_t addr)
{
	for (size_t i = 0; p && i < p->n; i++)
		if (addr >= p->m[i].start && addr < p->m[i].end)
			return &p->m[i];
	return NULL;
}

/* "name+0x1a" into buf, or "" */
static const char *sym_text(const struct sym *sym, uint64_t addr, char *buf, size_t len)
{
	if (!sym)
		return "";
	snprintf(buf, len, "%s+0x%" PRIx64, sym->name, addr - sym->addr);
	return buf;
}

/*
 * A user frame. A return address is looked up one byte back: the call it
 * returns from may be a function's last instruction (a noreturn call). One
 * in no mapping read has the maps read again, once a stack (*@reread): a
 * mapping made since, or a stray address (a frame without frame pointers),
 * which another reading would not find either.
 */
static void user_frame(struct stacks *s, struct proc_maps **p, uint32_t pid, uint64_t addr,
		       bool ret, bool *reread, struct rec_frame *fr, char *buf, size_t len)
{
	const struct mapping *m = mapping_at(*p, addr);
	const struct elf_file *f;
	uint64_t off, look;

	if (!m && !*reread) {
		*p = maps_of(s, pid, true);
		*reread = true;
		m = mapping_at(*p, addr);
	}
	*fr = (struct rec_frame){ .sym = "", .binary = "", .build_id = "", .offset = addr };
	if (!m || !m->elf)
		return;
	f = m->elf;
	off = addr - m->start + m->off;
	fr->binary = f->path;
	fr->build_id = f->build_id;
	fr->offset = off;
	look = ret && off ? off - 1 : off;
	for (size_t i = 0; i < f->nloads; i++) {
		const GElf_Phdr *ph = &f->loads[i];

		if (look >= ph->p_offset && look < ph->p_offset + ph->p_filesz) {
			const struct sym *sym = sym_at(f->syms, f->nsyms, look - ph->p_offset +
						       ph->p_vaddr);

			if (sym)
				fr->sym = sym_text(sym, off - ph->p_offset + ph->p_vaddr, buf, len);
			return;
		}
	}
}

static void kernel_frame(struct stacks *s, uint64_t addr, bool ret, struct rec_frame *fr,
			 char *buf, size_t len)
{
	const struct sym *sym;

	if (!s->ksyms_read)
		read_kallsyms(s);
	sym = sym_at(s->ksyms, s->nksyms, ret ? addr - 1 : addr);
	*fr = (struct rec_frame){ .sym = sym_text(sym, addr, buf, len),
				  .binary = sym ? sym->module : "vmlinux", .build_id = "",
				  .offset = addr, .flags = REC_FRAME_KERNEL };
}

/* the frames as one string: the identity of a stack record */
static char *frames_key(const struct rec_frame *fr, size_t n)
{
	size_t len = 1;
	char *key, *p;

	for (size_t i = 0; i < n; i++)
		len += strlen(fr[i].sym) + strlen(fr[i].binary) + strlen(fr[i].build_id) + 40;
	key = p = malloc(len);
	for (size_t i = 0; key && i < n; i++)
		p += sprintf(p, "%s\n%s\n%s\n%" PRIx64 "\n%x\n", fr[i].sym, fr[i].binary,
			     fr[i].build_id, fr[i].offset, fr[i].flags);
	if (key)
		*p = '\0';
	return key;
}

/* the record of these frames: an earlier one of the same frames, else a new one written */
static int stack_record(struct stacks *s, int (*emit)(const struct rec *x, void *ctx),
			void *ctx, const struct rec_frame *fr, size_t n, uint32_t *id)
{
	char *key = frames_key(fr, n);
	uint64_t hash;
	struct rec x = { .type = REC_STACK };
	int err;

	if (!key)
		return -ENOMEM;
	hash = fnv1a(FNV1A_SEED, key, strlen(key));
	for (size_t i = 0; i < s->nwritten; i++)
		if (s->written[i].hash == hash && !strcmp(s->written[i].key, key)) {
			free(key);
			*id = s->written[i].id;
			return 0;
		}
	x.stack = (struct rec_stack){ .id = s->next_id + 1, .nframes = n, .frames = fr };
	err = emit(&x, ctx);
	if (!err)
		err = grow_array((void **)&s->written, &s->written_cap, s->nwritten,
				 sizeof(*s->written));
	if (err) {
		free(key);
		return err;
	}
	s->written[s->nwritten++] = (struct written){ .hash = hash, .key = key,
						      .id = ++s->next_id };
	*id = s->next_id;
	return 0;
}

static struct seen *seen_slot(struct seen *v, size_t cap, uint32_t kid, uint32_t uid, uint32_t pid)
{
	uint64_t h = fnv1a(fnv1a(fnv1a(FNV1A_SEED, &kid, 4), &uid, 4), &pid, 4);

	for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1))
		if (!v[i].id || (v[i].kid == kid && v[i].uid == uid && v[i].pid == pid))
			return &v[i];
}

static int seen_add(struct stacks *s, uint32_t kid, uint32_t uid, uint32_t pid, uint32_t id)
{
	if ((s->nseen + 1) * 2 > s->seen_cap) {
		size_t cap = s->seen_cap ? s->seen_cap * 2 : 256;
		struct seen *v = calloc(cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		for (size_t i = 0; i < s->seen_cap; i++)
			if (s->seen[i].id)
				*seen_slot(v, cap, s->seen[i].kid, s->seen[i].uid,
					   s->seen[i].pid) = s->seen[i];
		free(s->seen);
		s->seen = v;
		s->seen_cap = cap;
	}
	*seen_slot(s->seen, s->seen_cap, kid, uid, pid) = (struct seen){ kid, uid, pid, id };
	s->nseen++;
	return 0;
}

int stacks_of(struct stacks *s, struct collector *c,
	      int (*emit)(const struct rec *x, void *ctx), void *ctx,
	      const struct coll_event *e, uint32_t *id)
{
	static char texts[COLL_STACK_DEPTH][320], utexts[COLL_STACK_DEPTH][320];
	struct rec_frame fr[MAX_FRAMES], ufr[COLL_STACK_DEPTH];
	uint64_t kips[COLL_STACK_DEPTH], uips[COLL_STACK_DEPTH];
	struct proc_maps *p = NULL;
	struct seen *hit;
	int nk, nu, err;
	size_t n = 0;
	bool inner = true, reread = false;

	*id = 0;
	if (!e->kstack && !e->ustack)
		return 0;
	hit = s->seen_cap ? seen_slot(s->seen, s->seen_cap, e->kstack, e->ustack, e->tgid) : NULL;
	if (hit && hit->id) {
		*id = hit->id;
		return 0;
	}
	nk = collector_stack(c, e->kstack, kips, COLL_STACK_DEPTH);
	nu = collector_stack(c, e->ustack, uips, COLL_STACK_DEPTH);
	/* the user's first, after the kernel's: the process may be exiting */
	if (nu > 0)
		p = maps_of(s, e->tgid, false);
	for (int i = 0; i < nu; i++)
		user_frame(s, &p, e->tgid, uips[i], i > 0, &reread, &ufr[i], utexts[i],
			   sizeof(utexts[i]));
	for (int i = 0; i < nk; i++) {
		kernel_frame(s, kips[i], i > 0, &fr[n], texts[n], sizeof(texts[n]));
		/* the collector's own frames (BPF programs, trampolines) are not the caller's */
		if (inner && (!strcmp(fr[n].binary, "bpf") || !fr[n].sym[0]))
			continue;
		inner = false;
		n++;
	}
	for (int i = 0; i < nu; i++)
		fr[n++] = ufr[i];
	if (!n)
		return 0;
	err = stack_record(s, emit, ctx, fr, n, id);
	return err ? err : seen_add(s, e->kstack, e->ustack, e->tgid, *id);
}

void stacks_free(struct stacks *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nelves; i++) {
		free(s->elves[i]->syms);
		free(s->elves[i]->loads);
		free(s->elves[i]);
	}
	for (size_t i = 0; i < s->nprocs; i++)
		free(s->procs[i].m);
	for (size_t i = 0; i < s->nwritten; i++)
		free((char *)s->written[i].key);
	free(s->elves);
	free(s->procs);
	free(s->seen);
	free(s->written);
	free(s->ksyms);
	arena_free(&s->strs);
	free(s);
}
