// SPDX-License-Identifier: GPL-2.0
/*
 * Cgroup changes go through libcgroup (2.0 learns cgroup v2's controllers,
 * dmem among them, from the root's cgroup.controllers): cgroup_new_cgroup,
 * cgroup_add_controller, cgroup_add_value_string, cgroup_create_cgroup,
 * cgroup_modify_cgroup, cgroup_attach_task_pid. Reading the dmem and memory
 * files stays in dmem.c and memcg.c: libcgroup reads a whole cgroup's files
 * to give one value, which a model of a thousand cgroups cannot afford.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libcgroup.h>

#include "control.h"
#include "dmem.h"
#include "path.h"
#include "lib/text.h"

#define CGROUP_PATH_MAX	4096

/* libcgroup's error as a negative errno, its words in @why */
static int cg_err(int err, const char *what, const char *cgroup, char *why, size_t len)
{
	int sys = err == ECGOTHER ? cgroup_get_last_errno() : 0;

	/*
	 * libcgroup says EPERM as ECGROUPNOTOWNER, and any other errno of
	 * opening a cgroup's file or making its directory (EACCES most often:
	 * no write permission) as ECGROUPNOTALLOWED, keeping neither
	 */
	snprintf(why, len, "%s %s: %s", what, cgroup, sys ? strerror(sys) :
		 err == ECGROUPNOTOWNER ? strerror(EPERM) :
		 err == ECGROUPNOTALLOWED ? "not allowed (most often: no write permission there)" :
		 cgroup_strerror(err));
	if (sys)
		return -sys;
	switch (err) {
	case ECGROUPNOTEXIST: return -ENOENT;
	case ECGROUPNOTOWNER: case ECGROUPNOTALLOWED: return -EPERM;
	case ECGROUPSUBSYSNOTMOUNTED: case ECGROUPNOTMOUNTED: return -EOPNOTSUPP;
	default: return -EIO;
	}
}

/* @word is a word of the root's cgroup.@file; NULL: the file is there, with no word */
static bool root_lists(const char *file, const char *word)
{
	char path[4200], w[64];
	bool found = false, any = false, opened;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.%s", cg_root(), file);
	f = fopen(path, "re");
	opened = f;
	while (f && !found && fscanf(f, "%63s", w) == 1)
		found = word && !strcmp(w, word), any = true;
	if (f)
		fclose(f);
	return word ? found : opened && !any;
}

int cg_control_init(char *why, size_t len)
{
	int err = cgroup_init();

	/* libcgroup takes a cgroup2 mount without controllers for none */
	if (err == ECGROUPNOTMOUNTED && root_lists("controllers", NULL)) {
		snprintf(why, len, "set up libcgroup for %s: it takes a cgroup2 mount without "
			 "controllers for none (its cgroup.controllers is empty: the root of a cgroup "
			 "namespace whose parent enables none for it)", cg_root());
		return -EOPNOTSUPP;
	}
	return err ? cg_err(err, "set up libcgroup for", cg_root(), why, len) : 0;
}

/* the kernel offers @controller at the root: a word of its cgroup.controllers */
bool cg_controller_available(const char *controller)
{
	return root_lists("controllers", controller);
}

/* @cgroup is a directory under the cgroup2 root */
static bool is_dir(const char *cgroup)
{
	char dir[4096];
	struct stat st;

	return !cg_dir(dir, sizeof(dir), cg_root(), cgroup) && !stat(dir, &st) &&
	       S_ISDIR(st.st_mode);
}

/*
 * No file stands where @cgroup or a parent would be: libcgroup enables the
 * controllers in what it takes for the parent before it finds out, and a
 * cgroup whose subtree_control has one takes no process. -ENOTDIR if one does.
 * The shallowest level that does not exist, which will be made, in @made
 * ("" when all do).
 */
static int creatable(const char *cgroup, char *made, size_t made_len, char *why, size_t len)
{
	size_t root = strlen(cg_root()), n;
	char dir[4096];
	struct stat st;
	int err = cg_dir(dir, sizeof(dir), cg_root(), cgroup);

	if (made)
		made[0] = '\0';
	if (err) {
		snprintf(why, len, "create cgroup %s: %s", cgroup, strerror(-err));
		return err;
	}
	n = strlen(dir);
	for (size_t i = root + 1; !err && i <= n; i++) {
		char c = dir[i];

		if (c != '/' && c != '\0')
			continue;
		dir[i] = '\0';
		if (stat(dir, &st)) {
			err = errno == ENOENT ? 1 : -errno;	/* made from here */
			if (err > 0 && made)
				snprintf(made, made_len, "%s", dir + root);
		} else if (!S_ISDIR(st.st_mode)) {
			err = -ENOTDIR;
		}
		if (err < 0 && i == n)
			snprintf(why, len, "create cgroup %s: %s", cgroup,
				 err == -ENOTDIR ? "a file, not a cgroup" : strerror(-err));
		else if (err < 0)
			snprintf(why, len, "create cgroup %s: %s: %s", cgroup, dir + root,
				 err == -ENOTDIR ? "a file, not a cgroup" : strerror(-err));
		dir[i] = c;
	}
	return err < 0 ? err : 0;
}

/*
 * The deepest of @cgroup's parents (not the root) that exists and holds
 * processes, in @out; false when none does. Such a cgroup cannot enable a
 * controller for its children (cgroup v2's "no internal processes"): the
 * kernel's EBUSY.
 */
static bool busy_parent(const char *cgroup, char *out, size_t len)
{
	char dir[4096], c;
	bool found = false;
	FILE *f;

	if (cg_dir(dir, sizeof(dir), cg_root(), cgroup))
		return false;
	for (char *p = dir + strlen(cg_root()) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (strlen(dir) + sizeof("/cgroup.procs") <= sizeof(dir)) {
			strcat(dir, "/cgroup.procs");
			f = fopen(dir, "re");
			dir[strlen(dir) - strlen("/cgroup.procs")] = '\0';
			if (f && fread(&c, 1, 1, f) == 1) {
				snprintf(out, len, "%s", dir + strlen(cg_root()));
				found = true;
			}
			if (f)
				fclose(f);
		}
		*p = '/';
	}
	return found;
}

/* libcgroup's description of @path with @controllers, in *@cg (freed by the caller); its error */
static int cg_with(const char *path, const char * const *controllers, struct cgroup **cg)
{
	int err;

	*cg = cgroup_new_cgroup(path);
	err = *cg ? 0 : ECGFAIL;
	for (size_t i = 0; !err && controllers[i]; i++)
		if (!cgroup_add_controller(*cg, controllers[i]))
			err = ECGINVAL;
	return err;
}

/*
 * @controllers enabled for the root's children, for a cgroup below the
 * first level. libcgroup 2.0 cannot: making such a cgroup, it enables a
 * controller in each parent's cgroup.subtree_control but the root's (it
 * writes the root's only for a cgroup of the first level), so the first
 * level below the root has none to enable in turn, and the create fails
 * with the first level made. This one file written here, the rest by
 * libcgroup. Each only when not enabled yet.
 */
/* "+controller" or "-controller" written to the root's cgroup.subtree_control */
static int root_subtree(char sign, const char *controller, char *path, size_t path_len)
{
	char word[72];

	snprintf(path, path_len, "%s/cgroup.subtree_control", cg_root());
	snprintf(word, sizeof(word), "%c%s", sign, controller);
	return cg_write_file(path, word);
}

static int enable_at_root(const char *cgroup, const char * const *controllers,
			  unsigned int *enabled, char *why, size_t len)
{
	char path[4200];
	int err = 0;

	if (cg_path_depth(cgroup) < 2)
		return 0;
	for (int i = 0; !err && controllers[i]; i++) {
		if (root_lists("subtree_control", controllers[i]))
			continue;
		err = root_subtree('+', controllers[i], path, sizeof(path));
		if (err)
			snprintf(why, len, "enable %s for the root's children (%s): %s",
				 controllers[i], path, strerror(-err));
		else
			*enabled |= 1u << i;
	}
	return err;
}

/*
 * What enable_at_root() enabled, disabled again once what a create made is
 * removed: the root as it was. Not when a cgroup enables it for its own
 * children since (the kernel refuses: EBUSY), which then needs it.
 */
static void disable_at_root(const char * const *controllers, unsigned int enabled)
{
	char path[4200];

	for (int i = 0; controllers[i]; i++)
		if (enabled & 1u << i)
			root_subtree('-', controllers[i], path, sizeof(path));
}

static int create(const char *cgroup, const char * const *controllers, char *made,
		  size_t made_len, unsigned int *enabled, char *why, size_t len)
{
	struct cgroup *cg;
	int err = creatable(cgroup, made, made_len, why, len);

	if (err)
		return err;

	/*
	 * libcgroup makes a cgroup's directory in each given controller's
	 * hierarchy: given none, it makes nothing. Then the directory is made
	 * here, in the cgroup2 tree.
	 */
	if (!controllers[0]) {
		char dir[4096], *p = NULL;
		size_t root = strlen(cg_root());

		err = cg_dir(dir, sizeof(dir), cg_root(), cgroup);
		if (!err && dir[root])
			p = strchr(dir + root + 1, '/');
		/* its parents first, as libcgroup makes them */
		for (; !err && p; p = strchr(p + 1, '/')) {
			*p = '\0';
			if (mkdir(dir, 0755) && errno != EEXIST)
				err = -errno;
			*p = '/';
		}
		if (!err && mkdir(dir, 0755) && errno != EEXIST)
			err = -errno;
		if (err)
			snprintf(why, len, "create cgroup %s: %s", cgroup, strerror(-err));
		return err;
	}
	err = enable_at_root(cgroup, controllers, enabled, why, len);
	if (err)
		return err;
	err = cg_with(cgroup, controllers, &cg);
	/* its owner left as is: libcgroup would chown it to the caller, which
	 * fails for a user in a cgroup someone else made */
	if (!err)
		err = cgroup_create_cgroup(cg, 1);
	cgroup_free(&cg);
	if (!err)
		return 0;
	err = cg_err(err, "create cgroup", cgroup, why, len);
	if (err == -EBUSY) {
		char busy[4096];
		size_t n = strlen(why);

		if (busy_parent(cgroup, busy, sizeof(busy)))
			snprintf(why + n, len - n, " (%s holds processes: a cgroup with processes "
				 "enables no controller for its children; move them into a child "
				 "cgroup first)", busy);
	}
	return err;
}

/*
 * A cgroup with @controllers (NULL-terminated) enabled in it, its parents made
 * as needed; the shallowest level it made in @made (NULL: not wanted), for
 * cg_control_unmake(). Failed, what it made is removed again, and a
 * controller it enabled at the root disabled.
 */
int cg_control_create(const char *cgroup, const char * const *controllers, char *made,
		      size_t made_len, char *why, size_t len)
{
	char first[4096], again[512];
	unsigned int enabled = 0;	/* controllers it enabled at the root */
	int err = create(cgroup, controllers, first, sizeof(first), &enabled, why, len);

	/*
	 * a file there (mkdir's EEXIST, taken as the cgroup): one the kernel
	 * put in a level made here (/new/cgroup.procs), which creatable() could
	 * not see before it was made
	 */
	if (!err && !is_dir(cgroup)) {
		snprintf(why, len, "create cgroup %s: a file, not a cgroup", cgroup);
		err = -ENOTDIR;
	}

	if (err && first[0] && cg_control_unmake(cgroup, first, controllers, again,
						 sizeof(again))) {
		size_t n = strlen(why);

		snprintf(why + n, len - n, "; then failed to %s", again);
	}
	if (err && enabled)
		disable_at_root(controllers, enabled);
	if (made)
		snprintf(made, made_len, "%s", err ? "" : first);
	return err;
}

/*
 * The cgroups cg_control_create() made for @cgroup with @controllers, from it
 * up to @first (the shallowest that did not exist), removed again: empty
 * ones only (a process moved in since keeps its cgroup). The first failure
 * stops it: the levels above are not empty either.
 */
int cg_control_unmake(const char *cgroup, const char *first, const char * const *controllers,
		      char *why, size_t len)
{
	char path[4096], dir[4096];
	size_t stop = strlen(first);

	snprintf(path, sizeof(path), "%s", cgroup);
	while (stop > 1 && strlen(path) >= stop) {
		/* else not there, or a file the kernel made (cgroup.procs): not made here */
		bool made_here = is_dir(path);
		struct cgroup *cg;
		int err = 0;

		if (made_here && !controllers[0]) {	/* made by mkdir, as cg_control_create() does */
			if (!cg_dir(dir, sizeof(dir), cg_root(), path) && rmdir(dir)) {
				err = -errno;
				snprintf(why, len, "remove cgroup %s: %s", path, strerror(-err));
				return err;
			}
		} else if (made_here) {
			err = cg_with(path, controllers, &cg);
			if (!err)
				err = cgroup_delete_cgroup_ext(cg, CGFLAG_DELETE_EMPTY_ONLY);
			cgroup_free(&cg);
			if (err)
				return cg_err(err, "remove cgroup", path, why, len);
		}
		*strrchr(path, '/') = '\0';
	}
	return 0;
}

/* write @value to a controller's @file of an existing cgroup, e.g. dmem.max */
int cg_control_write(const char *cgroup, const char *controller, const char *file,
		     const char *value, char *why, size_t len)
{
	struct cgroup *cg = cgroup_new_cgroup(cgroup);
	struct cgroup_controller *c = cg ? cgroup_add_controller(cg, controller) : NULL;
	int err = c ? cgroup_add_value_string(c, file, value) : ECGFAIL;

	if (!err)
		err = cgroup_modify_cgroup(cg);
	cgroup_free(&cg);
	if (err) {
		char what[128];

		snprintf(what, sizeof(what), "write '%s' to %s of", value, file);
		return cg_err(err, what, cgroup, why, len);
	}
	return 0;
}

/* @pid is in @cgroup, by /proc/<pid>/cgroup */
static bool in_cgroup(const char *cgroup, pid_t pid)
{
	char path[64], line[CGROUP_PATH_MAX + 8];
	bool in = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "re");
	while (f && !in && fgets(line, sizeof(line), f))
		in = !strncmp(line, "0::", 3) && !strncmp(line + 3, cgroup, strlen(cgroup)) &&
		     line[3 + strlen(cgroup)] == '\n';
	if (f)
		fclose(f);
	return in;
}

/*
 * What libcgroup cannot do: move a task into a cgroup with no controller
 * enabled (it writes cgroup.procs only in its controllers' hierarchies).
 * Written directly, as cgroup/dmem.c's cg_enter() does.
 */
static int enter(const char *cgroup, pid_t pid, char *why, size_t len)
{
	char dir[CGROUP_PATH_MAX + 64];
	int err = cg_dir(dir, sizeof(dir), cg_root(), cgroup);

	if (!err)
		err = cg_enter(dir, pid);
	if (err)
		snprintf(why, len, "move the process into cgroup %s: %s", cgroup, strerror(-err));
	return err;
}

/**
 * cg_control_spawn() - run a command in a cgroup
 * @who: the caller's name for the child's messages, e.g. "heapstat limit"
 * @ignored: signals the command starts with ignored (those its caller was
 *	started with ignored and catches: exec would make them default), or NULL
 *
 * The child enters @cgroup, then execs @argv; it exits 126 when it cannot
 * enter or run it, 127 when @argv[0] is not found, saying why on stderr.
 * Return: the child's pid, or a negative errno when it could not be forked.
 */
pid_t cg_control_spawn(const char *cgroup, char * const *argv, const char *who,
		       const sigset_t *ignored)
{
	sigset_t all, was;
	char why[512];
	pid_t pid;
	int err;

	/*
	 * The child takes none of the caller's handlers: a Ctrl-C before its
	 * exec (which would reset them) ends it, not a flag of the caller's
	 * that it then execs on regardless. Signals wait till they are reset.
	 */
	fflush(NULL);
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &was);
	pid = fork();
	if (pid) {
		err = errno;
		sigprocmask(SIG_SETMASK, &was, NULL);
		return pid < 0 ? -err : pid;
	}
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;

		if (ignored && sigismember(ignored, sig) == 1)
			signal(sig, SIG_IGN);
		else if (!sigaction(sig, NULL, &sa) && sa.sa_handler != SIG_IGN &&
			 sa.sa_handler != SIG_DFL)
			signal(sig, SIG_DFL);
	}
	sigprocmask(SIG_SETMASK, &was, NULL);
	if (cg_control_attach(cgroup, getpid(), why, sizeof(why))) {
		fprintf(stderr, "%s: failed to %s\n", who, text_safe(why));
		_exit(126);
	}
	execvp(argv[0], argv);
	fprintf(stderr, "%s: cannot run %s: %s\n", who, text_safe(argv[0]), strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/*
 * @cgroup (not the root) enables controllers for its children, listed in
 * @controllers as its cgroup.subtree_control has them: cgroup v2 puts no
 * process in it then ("no internal processes"), and a move there fails.
 * Read here: libcgroup reads a controller's files, not this one.
 */
bool cg_control_delegates(const char *cgroup, char *controllers, size_t len)
{
	char path[4200];
	FILE *f;

	controllers[0] = '\0';
	if (!strcmp(cgroup, "/") || cg_dir(path, sizeof(path) - 32, cg_root(), cgroup))
		return false;
	strcat(path, "/cgroup.subtree_control");
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(controllers, len, f))
		controllers[0] = '\0';
	fclose(f);
	controllers[strcspn(controllers, "\n")] = '\0';
	return controllers[0] != '\0';
}

/*
 * Move process @pid into @cgroup. libcgroup moves a task in the hierarchies
 * of the cgroup's controllers: with none named it moves nothing on cgroup v2,
 * so one the cgroup has is named (on v2 every controller has the same path).
 */
int cg_control_attach(const char *cgroup, pid_t pid, char *why, size_t len)
{
	struct cgroup *cg = cgroup_new_cgroup(cgroup);
	int err = cg ? cgroup_get_cgroup(cg) : ECGFAIL;

	/*
	 * libcgroup finds a cgroup through the controllers enabled in it: one
	 * with none (its parent's subtree_control empty) it reports as not
	 * mounted. cgroup.procs is written here then.
	 */
	if (!err)
		err = cgroup_attach_task_pid(cg, pid);
	cgroup_free(&cg);
	if (err == ECGROUPNOTMOUNTED)
		return enter(cgroup, pid, why, len);
	if (err)
		return cg_err(err, "move the process into cgroup", cgroup, why, len);
	return in_cgroup(cgroup, pid) ? 0 : enter(cgroup, pid, why, len);
}
