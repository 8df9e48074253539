// SPDX-License-Identifier: GPL-2.0
/*
 * record --stacks' reading of a mapped ELF file's symbols (static in
 * tools/record/stacks.c, included here): a hostile file's symbols sharing
 * one long name take the file's bytes, not a copy of the name each.
 */
#include "record/stacks.c"

#include <sys/resource.h>

#include "../test.h"

static long max_rss_kib(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) ? -1 : ru.ru_maxrss;
}

/*
 * An ELF file of @n function symbols whose names are all the one @len
 * bytes long (st_name 1 each), and its section headers: @tabs of .symtab
 * (each the same symbols), .strtab, .shstrtab. Its path in @path.
 */
static int hostile_elf(char *path, size_t n, size_t len, unsigned int tabs)
{
	static const char shstr[] = "\0.symtab\0.strtab\0.shstrtab";
	size_t syms = (n + 1) * sizeof(Elf64_Sym), strs = len + 2;
	size_t off_str = sizeof(Elf64_Ehdr) + syms, off_shs = off_str + strs;
	size_t off_sh = (off_shs + sizeof(shstr) + 7) & ~7ul;
	size_t size = off_sh + (tabs + 3) * sizeof(Elf64_Shdr);
	uint8_t *v = calloc(1, size);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)v;
	Elf64_Sym *sym = (Elf64_Sym *)(v + sizeof(*eh));
	Elf64_Shdr *sh = (Elf64_Shdr *)(v + off_sh);
	int fd, err = 0;

	if (!v)
		return -ENOMEM;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_DYN;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_shoff = off_sh;
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_shentsize = sizeof(Elf64_Shdr);
	eh->e_shnum = tabs + 3;
	eh->e_shstrndx = tabs + 2;
	for (size_t i = 1; i <= n; i++)
		sym[i] = (Elf64_Sym){ .st_name = 1, .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC),
				      .st_shndx = 1, .st_value = 0x1000 + 16 * i, .st_size = 16 };
	memset(v + off_str + 1, 'A', len);
	memcpy(v + off_shs, shstr, sizeof(shstr));
	for (unsigned int t = 1; t <= tabs; t++)
		sh[t] = (Elf64_Shdr){ .sh_name = 1, .sh_type = SHT_SYMTAB,
				      .sh_offset = sizeof(*eh), .sh_size = syms, .sh_link = tabs + 1,
				      .sh_info = 1, .sh_addralign = 8, .sh_entsize = sizeof(Elf64_Sym) };
	sh[tabs + 1] = (Elf64_Shdr){ .sh_name = 9, .sh_type = SHT_STRTAB, .sh_offset = off_str,
				     .sh_size = strs, .sh_addralign = 1 };
	sh[tabs + 2] = (Elf64_Shdr){ .sh_name = 17, .sh_type = SHT_STRTAB, .sh_offset = off_shs,
				     .sh_size = sizeof(shstr), .sh_addralign = 1 };
	strcpy(path, "/tmp/stacks_test.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || write_all(fd, v, size))
		err = -errno;
	if (fd >= 0)
		close(fd);
	free(v);
	return err;
}

/*
 * 4,000 symbols sharing one name of 100 KB (a 200 KB file), in one symbol
 * table or in 4,000 headers of it: read once, each named, in about the
 * file's bytes. A copy of the name per symbol took 400 MB, and a copy of the
 * table per header as much.
 */
static void shared_names_take_the_files_bytes(unsigned int tabs)
{
	enum { N = 4000, LEN = 100000 };
	struct elf_file f = {};
	struct stacks *s;
	char path[64];
	long before;

	CHECK_EQ(hostile_elf(path, N, LEN, tabs), 0);
	CHECK_EQ(stacks_new(&s, "/nonexistent"), 0);
	if (!s)
		return;
	f.path = path;
	before = max_rss_kib();
	elf_read(s, &f, 0, 0, 0);
	CHECK(f.ok, "%s not read", path);
	CHECK_EQ(f.nsyms, N);
	CHECK(f.nsyms && strlen(f.syms[0].name) == LEN && strlen(f.syms[N - 1].name) == LEN,
	      "names of %zu, %zu bytes", f.nsyms ? strlen(f.syms[0].name) : 0,
	      f.nsyms ? strlen(f.syms[N - 1].name) : 0);
	CHECK(max_rss_kib() - before < 16 * 1024, "%ld KiB more", max_rss_kib() - before);
	free(f.syms);
	free(f.loads);
	stacks_free(s);
	unlink(path);
}

static void one_table(void)
{
	shared_names_take_the_files_bytes(1);
}

static void headers_of_one_table(void)
{
	shared_names_take_the_files_bytes(4000);
}

/* a name past the string table's end (crafted): left out, not read past it */
static void name_past_the_table(void)
{
	struct elf_file f = {};
	struct stacks *s;
	char path[64];
	int fd;

	CHECK_EQ(hostile_elf(path, 2, 8, 1), 0);
	/* the second symbol's st_name: past the 10 bytes of .strtab */
	fd = open(path, O_WRONLY);
	CHECK(fd >= 0 && pwrite(fd, &(uint32_t){ 10 }, 4, sizeof(Elf64_Ehdr) +
				2 * sizeof(Elf64_Sym)) == 4, "%s", strerror(errno));
	if (fd >= 0)
		close(fd);
	CHECK_EQ(stacks_new(&s, "/nonexistent"), 0);
	if (!s)
		return;
	f.path = path;
	elf_read(s, &f, 0, 0, 0);
	CHECK(f.ok, "%s not read", path);
	CHECK_EQ(f.nsyms, 1);
	CHECK(f.nsyms == 1 && !strcmp(f.syms[0].name, "AAAAAAAA"), "%s",
	      f.nsyms ? f.syms[0].name : "");
	free(f.syms);
	free(f.loads);
	stacks_free(s);
	unlink(path);
}

int main(void)
{
	RUN(one_table);
	RUN(headers_of_one_table);
	RUN(name_past_the_table);
	return tests_failed ? 1 : 0;
}
