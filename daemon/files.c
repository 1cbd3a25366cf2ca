/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * File-path resolver.  Two ways from (dev, ino) to a name: open the inode by
 * an ext4/xfs FILEID_INO32_GEN handle through a cached directory fd of one
 * of the mounts listed in mountinfo and read the name the kernel gives the
 * new fd (host view, generation-checked, needs CAP_DAC_READ_SEARCH), or scan
 * /proc/PID/maps of every live process once for a batch of files.  All
 * state lives in struct file_resolver; nothing here logs.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/fs.h>

#include "util.h"

/* include/linux/exportfs.h: 32-bit inode number + 32-bit generation. */
#define FILEID_INO32_GEN 1
#define INO32_GEN_BYTES 8

/* What d_path() appends to the name of an unlinked dentry. */
#define DELETED_SUFFIX " (deleted)"
#define DELETED_SUFFIX_LEN (sizeof(DELETED_SUFFIX) - 1)

_Static_assert(offsetof(struct file_handle, f_handle) == 8,
	       "struct file_handle layout");

struct mount_entry {
	uint64_t dev;
	int mount_id;
	char *root;		/* decoded "root" field of mountinfo */
	char *mount_point;	/* decoded, relative to our root */
	char *fstype;
	int fd;			/* dir fd of mount_point, -1 until opened */
};

struct file_resolver {
	char *proc_dir;
	/* Every mount, sorted by dev and then by preference (mount_cmp). */
	struct mount_entry *mounts;
	size_t n_mounts;
	struct file_resolver_stats stats;
};

/* ---- small parsers --------------------------------------------------- */

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 16;
}

/*
 * Unsigned number in base 10 or 16 at *p, at least one digit, no sign, no
 * leading blanks (unlike strtoull).  Advances *p past the digits.
 */
static int parse_uint(const char **p, unsigned int base, uint64_t *ret)
{
	const char *s = *p;
	uint64_t v = 0;
	unsigned int d;

	if ((unsigned int)digit_value(*s) >= base)
		return -EINVAL;
	while ((d = (unsigned int)digit_value(*s)) < base) {
		if (v > (UINT64_MAX - d) / base)
			return -ERANGE;
		v = v * base + d;
		s++;
	}
	*p = s;
	*ret = v;
	return 0;
}

/* "MAJ:MIN" in the given base, up to the end of the string or a blank. */
static int parse_dev(const char **p, unsigned int base, uint64_t *ret)
{
	uint64_t major, minor;

	if (parse_uint(p, base, &major) < 0 || **p != ':')
		return -EINVAL;
	(*p)++;
	if (parse_uint(p, base, &minor) < 0)
		return -EINVAL;
	if (major > UINT32_MAX || minor > UINT32_MAX)
		return -EINVAL;
	*ret = makedev((unsigned int)major, (unsigned int)minor);
	return 0;
}

static bool is_odigit(char c)
{
	return c >= '0' && c <= '7';
}

/*
 * Decode, in place, the \ooo escapes the kernel's mangle() puts in
 * mountinfo for space, tab, newline and backslash.  Anything else, and a
 * \000 that cannot be part of a name, is kept as it is.
 */
static void unescape_octal(char *s)
{
	char *w = s;

	while (*s) {
		if (s[0] == '\\' && is_odigit(s[1]) && is_odigit(s[2]) &&
		    is_odigit(s[3])) {
			int v = (s[1] - '0') * 64 + (s[2] - '0') * 8 +
				(s[3] - '0');

			if (v > 0 && v < 256) {
				*w++ = (char)v;
				s += 4;
				continue;
			}
		}
		*w++ = *s++;
	}
	*w = '\0';
}

static bool has_deleted_suffix(const char *s, size_t len)
{
	return len > DELETED_SUFFIX_LEN &&
	       memcmp(s + len - DELETED_SUFFIX_LEN, DELETED_SUFFIX,
		      DELETED_SUFFIX_LEN) == 0;
}

/* ---- mountinfo ------------------------------------------------------- */

static void mount_entry_done(struct mount_entry *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	free(m->root);
	free(m->mount_point);
	free(m->fstype);
	m->root = m->mount_point = m->fstype = NULL;
}

static void mounts_free(struct mount_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		mount_entry_done(&v[i]);
	free(v);
}

/*
 * One line of mountinfo (newline removed; the buffer is cut up):
 *   36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw
 * id parent maj:min root mount-point options [optional...] - fstype ...
 * -EINVAL for a line that does not look like that, -ENOMEM.
 */
static int mountinfo_parse_line(char *line, struct mount_entry *ret)
{
	char *save = NULL, *id_s, *parent, *devs, *root, *mnt, *opts, *tok;
	const char *p;
	uint64_t id, dev;

	id_s = strtok_r(line, " ", &save);
	parent = strtok_r(NULL, " ", &save);
	devs = strtok_r(NULL, " ", &save);
	root = strtok_r(NULL, " ", &save);
	mnt = strtok_r(NULL, " ", &save);
	opts = strtok_r(NULL, " ", &save);
	if (!id_s || !parent || !devs || !root || !mnt || !opts)
		return -EINVAL;

	/* Optional fields (shared:N, master:N ...) end with a lone "-". */
	do
		tok = strtok_r(NULL, " ", &save);
	while (tok && strcmp(tok, "-") != 0);
	if (!tok)
		return -EINVAL;
	tok = strtok_r(NULL, " ", &save);
	if (!tok)
		return -EINVAL;

	p = id_s;
	if (parse_uint(&p, 10, &id) < 0 || *p || id > INT_MAX)
		return -EINVAL;
	p = devs;
	if (parse_dev(&p, 10, &dev) < 0 || *p)
		return -EINVAL;

	unescape_octal(root);
	unescape_octal(mnt);
	unescape_octal(tok);

	*ret = (struct mount_entry){
		.dev = dev,
		.mount_id = (int)id,
		.root = strdup(root),
		.mount_point = strdup(mnt),
		.fstype = strdup(tok),
		.fd = -1,
	};
	if (!ret->root || !ret->mount_point || !ret->fstype) {
		mount_entry_done(ret);
		return -ENOMEM;
	}
	return 0;
}

/*
 * Same dev together; within a dev the preferred mount first: root "/"
 * before any subtree (bind) mount, then the shortest mount point, then the
 * older mount id so the order is total.
 */
static int mount_cmp(const void *a, const void *b)
{
	const struct mount_entry *x = a, *y = b;
	bool xr = strcmp(x->root, "/") == 0, yr = strcmp(y->root, "/") == 0;
	size_t xl = strlen(x->mount_point), yl = strlen(y->mount_point);

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (xr != yr)
		return xr ? -1 : 1;
	if (xl != yl)
		return xl < yl ? -1 : 1;
	if (x->mount_id != y->mount_id)
		return x->mount_id < y->mount_id ? -1 : 1;
	return 0;
}

static int mounts_load(const char *proc_dir, struct mount_entry **ret,
		       size_t *ret_n)
{
	_cleanup_free_ char *path = NULL, *line = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	struct mount_entry *v = NULL;
	size_t n = 0, alloc = 0, cap = 0;
	ssize_t len;
	int err;

	if (asprintf(&path, "%s/self/mountinfo", proc_dir) < 0) {
		path = NULL;
		return -ENOMEM;
	}
	f = fopen(path, "re");
	if (!f)
		return -errno;

	for (;;) {
		struct mount_entry e;

		errno = 0;
		len = getline(&line, &cap, f);
		if (len < 0) {
			if (ferror(f)) {
				err = errno ? -errno : -EIO;
				goto fail;
			}
			break;
		}
		if (len > 0 && line[len - 1] == '\n')
			line[len - 1] = '\0';

		err = mountinfo_parse_line(line, &e);
		if (err == -EINVAL)
			continue;
		if (err < 0)
			goto fail;

		if (n == alloc) {
			size_t new_alloc = alloc ? alloc * 2 : 64;
			struct mount_entry *nv;

			nv = reallocarray(v, new_alloc, sizeof(*v));
			if (!nv) {
				mount_entry_done(&e);
				err = -ENOMEM;
				goto fail;
			}
			v = nv;
			alloc = new_alloc;
		}
		v[n++] = e;
	}

	if (n > 1)
		qsort(v, n, sizeof(*v), mount_cmp);
	*ret = v;
	*ret_n = n;
	return 0;

fail:
	mounts_free(v, n);
	return err;
}

/* Index of the first mount of dev, or of where it would be. */
static size_t mounts_lower_bound(const struct mount_entry *v, size_t n,
				 uint64_t dev)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].dev < dev)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool mounts_have_dev(const struct file_resolver *r, size_t i,
			    uint64_t dev)
{
	return i < r->n_mounts && r->mounts[i].dev == dev;
}

int file_resolver_reload_mounts(struct file_resolver *r)
{
	struct mount_entry *v = NULL;
	size_t n = 0;
	int err;

	if (!r)
		return -EINVAL;
	err = mounts_load(r->proc_dir, &v, &n);
	if (err < 0)
		return err;
	r->stats.mountinfo_loads++;

	/*
	 * Keep the fds of mounts that are still there.  A mount id is only
	 * unique while the mount lives, so the mount point must match too.
	 */
	for (size_t i = 0; i < r->n_mounts; i++) {
		struct mount_entry *old = &r->mounts[i];

		if (old->fd < 0)
			continue;
		for (size_t j = mounts_lower_bound(v, n, old->dev);
		     j < n && v[j].dev == old->dev; j++) {
			if (v[j].fd < 0 && v[j].mount_id == old->mount_id &&
			    strcmp(v[j].mount_point, old->mount_point) == 0) {
				v[j].fd = TAKE_FD(old->fd);
				break;
			}
		}
	}

	mounts_free(r->mounts, r->n_mounts);
	r->mounts = v;
	r->n_mounts = n;
	return 0;
}

void file_resolver_close_mounts(struct file_resolver *r)
{
	for (size_t i = 0; r && i < r->n_mounts; i++) {
		if (r->mounts[i].fd >= 0)
			close(r->mounts[i].fd);
		r->mounts[i].fd = -1;
	}
}

int file_resolver_find_mount(struct file_resolver *r, uint64_t dev,
			     struct file_mount *ret)
{
	size_t i;

	if (!r || !ret)
		return -EINVAL;
	i = mounts_lower_bound(r->mounts, r->n_mounts, dev);
	if (!mounts_have_dev(r, i, dev))
		return -ENODEV;
	*ret = (struct file_mount){
		.dev = dev,
		.mount_id = r->mounts[i].mount_id,
		.root = r->mounts[i].root,
		.mount_point = r->mounts[i].mount_point,
		.fstype = r->mounts[i].fstype,
	};
	return 0;
}

/* First mount of dev; mountinfo is re-read once if dev is unknown. */
static int mounts_lookup(struct file_resolver *r, uint64_t dev,
			 size_t *ret_first)
{
	size_t i = mounts_lower_bound(r->mounts, r->n_mounts, dev);
	int err;

	if (!mounts_have_dev(r, i, dev)) {
		err = file_resolver_reload_mounts(r);
		if (err < 0)
			return err;
		i = mounts_lower_bound(r->mounts, r->n_mounts, dev);
		if (!mounts_have_dev(r, i, dev))
			return -ENODEV;
	}
	*ret_first = i;
	return 0;
}

/*
 * A directory fd of the most preferred mount of dev that really is dev
 * when opened by its mount point (it may be over-mounted, or gone).  The
 * fd is cached in the mount entry.  Not O_PATH: open_by_handle_at() takes
 * its mount fd with fdget(), which refuses O_PATH files (EBADF, measured
 * on 6.18).
 */
static int mount_fd_get(struct file_resolver *r, size_t first, uint64_t dev)
{
	bool denied = false;

	for (size_t i = first; mounts_have_dev(r, i, dev); i++) {
		struct mount_entry *m = &r->mounts[i];
		_cleanup_close_ int fd = -1;
		struct stat st;

		if (m->fd >= 0)
			return m->fd;

		fd = open(m->mount_point, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOMEM)
				return -errno;
			if (errno == EACCES)
				denied = true;
			continue;
		}
		if (fstat(fd, &st) < 0 || st.st_dev != dev)
			continue;
		m->fd = TAKE_FD(fd);
		return m->fd;
	}
	/* Opening a mount point we may not read needs CAP_DAC_READ_SEARCH. */
	return denied ? -EPERM : -ENODEV;
}

/* ---- resolution by handle -------------------------------------------- */

static bool fstype_takes_ino32_gen(const char *fstype)
{
	static const char *const names[] = { "ext2", "ext3", "ext4", "xfs" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(fstype, names[i]) == 0)
			return true;
	return false;
}

static int handle_errno(int err)
{
	switch (err) {
	case ESTALE:
		return -ESTALE;
	case EPERM:
		return -EPERM;
	case EINVAL:
	case EOPNOTSUPP:
		return -EOPNOTSUPP;
	default:
		return -err;
	}
}

/*
 * ext2/3/4 (and others) skip the generation check when the handle carries
 * generation 0, so a handle {ino, 0} opens whatever inode now has that
 * number.  Accept it only if that inode's generation really is 0, which
 * needs a real (not O_PATH) open for FS_IOC_GETVERSION; anything but a
 * regular file or a directory is not opened and counts as stale.
 */
static int check_zero_generation(int fd)
{
	_cleanup_close_ int rfd = -1;
	char link[64];
	struct stat st;
	int gen = 0;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return -ESTALE;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	rfd = open(link, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (rfd < 0)
		return -errno;
	if (ioctl(rfd, FS_IOC_GETVERSION, &gen) < 0)
		return -errno;
	return gen == 0 ? 0 : -ESTALE;
}

/* Does path, not following a final symlink, name exactly (dev, ino)? */
static bool path_names_inode(const char *path, uint64_t dev, uint64_t ino)
{
	struct stat st;

	if (fstatat(AT_FDCWD, path, &st,
		    AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT) < 0)
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

/*
 * The name the kernel gives fd, checked.  d_path() appends " (deleted)"
 * to an unlinked dentry; a name that really ends like that is told apart
 * by looking it up.  A disconnected dentry (the inode was cached without
 * its dentry) or one outside the mount used comes back as a path that
 * does not lead to the inode: refuse it rather than return a wrong name.
 */
static int fd_path(int fd, uint64_t dev, uint64_t ino, char **ret_path,
		   bool *ret_deleted)
{
	char link[64], buf[PATH_MAX];
	bool deleted = false;
	ssize_t len;
	char *path;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	len = readlink(link, buf, sizeof(buf));
	if (len < 0)
		return -errno;
	if ((size_t)len >= sizeof(buf))
		return -ENAMETOOLONG;
	buf[len] = '\0';
	if (buf[0] != '/')
		return -ENOENT;

	if (!path_names_inode(buf, dev, ino)) {
		if (!has_deleted_suffix(buf, (size_t)len))
			return -ENOENT;
		buf[(size_t)len - DELETED_SUFFIX_LEN] = '\0';
		deleted = true;
	}

	path = strdup(buf);
	if (!path)
		return -ENOMEM;
	*ret_path = path;
	*ret_deleted = deleted;
	return 0;
}

int file_resolver_by_handle(struct file_resolver *r, uint64_t dev,
			    uint64_t ino, uint32_t gen, char **ret_path,
			    bool *ret_deleted)
{
	union {
		struct file_handle fh;
		unsigned char buf[sizeof(struct file_handle) + INO32_GEN_BYTES];
	} h;
	unsigned char *f_handle =
		h.buf + offsetof(struct file_handle, f_handle);
	_cleanup_close_ int fd = -1;
	uint32_t ino32;
	size_t first;
	int mfd, err;

	if (!r || !ret_path || !ret_deleted)
		return -EINVAL;

	err = mounts_lookup(r, dev, &first);
	if (err < 0)
		return err;
	if (!fstype_takes_ino32_gen(r->mounts[first].fstype) ||
	    ino > UINT32_MAX)
		return -EOPNOTSUPP;
	mfd = mount_fd_get(r, first, dev);
	if (mfd < 0)
		return mfd;

	memset(&h, 0, sizeof(h));
	h.fh.handle_bytes = INO32_GEN_BYTES;
	h.fh.handle_type = FILEID_INO32_GEN;
	ino32 = (uint32_t)ino;
	memcpy(f_handle, &ino32, sizeof(ino32));
	memcpy(f_handle + sizeof(ino32), &gen, sizeof(gen));

	r->stats.handle_opens++;
	fd = open_by_handle_at(mfd, &h.fh, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return handle_errno(errno);

	if (gen == 0) {
		err = check_zero_generation(fd);
		if (err < 0)
			return err;
	}

	return fd_path(fd, dev, ino, ret_path, ret_deleted);
}

/* ---- /proc/PID/maps ---------------------------------------------------- */

static bool is_perm_char(char c, const char *allowed)
{
	return c != '\0' && strchr(allowed, c) != NULL;
}

int maps_parse_line(const char *line, uint64_t *dev, uint64_t *ino,
		    const char **path_start)
{
	const char *p = line;
	uint64_t start, end, offset, d, i;

	if (!line)
		return -EINVAL;

	/* start-end */
	if (parse_uint(&p, 16, &start) < 0 || *p != '-')
		return -EINVAL;
	p++;
	if (parse_uint(&p, 16, &end) < 0 || *p != ' ' || start > end)
		return -EINVAL;
	p++;

	/* perms: rwx and p(rivate) or s(hared) */
	if (!is_perm_char(p[0], "r-") || !is_perm_char(p[1], "w-") ||
	    !is_perm_char(p[2], "x-") || !is_perm_char(p[3], "ps") ||
	    p[4] != ' ')
		return -EINVAL;
	p += 5;

	/* offset, MM:mm in hex, inode in decimal */
	if (parse_uint(&p, 16, &offset) < 0 || *p != ' ')
		return -EINVAL;
	p++;
	if (parse_dev(&p, 16, &d) < 0 || *p != ' ')
		return -EINVAL;
	p++;
	if (parse_uint(&p, 10, &i) < 0 || (*p != ' ' && *p != '\0'))
		return -EINVAL;

	/* The kernel pads to a column before the pathname. */
	while (*p == ' ')
		p++;

	*dev = d;
	*ino = i;
	*path_start = p;
	return i != 0;
}

struct query_key {
	uint64_t dev;
	uint64_t ino;
	size_t i;		/* index into the caller's queries */
};

static int query_key_cmp(const void *a, const void *b)
{
	const struct query_key *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	if (x->i != y->i)
		return x->i < y->i ? -1 : 1;
	return 0;
}

struct maps_scan {
	struct file_query *q;
	struct query_key *keys;	/* the unresolved queries, sorted */
	bool *filled;		/* keys[k] got its path in this scan */
	size_t n_keys;
	size_t remaining;
	char *line;
	size_t line_cap;
};

static size_t keys_lower_bound(const struct maps_scan *s, uint64_t dev,
			       uint64_t ino)
{
	size_t lo = 0, hi = s->n_keys;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct query_key *k = &s->keys[mid];

		if (k->dev < dev || (k->dev == dev && k->ino < ino))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Give path to every still unfilled query for (dev, ino). */
static int maps_scan_fill(struct maps_scan *s, uint64_t dev, uint64_t ino,
			  const char *path)
{
	size_t len = strlen(path);
	bool deleted = false;

	if (has_deleted_suffix(path, len)) {
		len -= DELETED_SUFFIX_LEN;
		deleted = true;
	}

	for (size_t k = keys_lower_bound(s, dev, ino);
	     k < s->n_keys && s->keys[k].dev == dev && s->keys[k].ino == ino;
	     k++) {
		struct file_query *fq = &s->q[s->keys[k].i];

		if (s->filled[k])
			continue;
		fq->path = strndup(path, len);
		if (!fq->path)
			return -ENOMEM;
		fq->deleted = deleted;
		s->filled[k] = true;
		s->remaining--;
	}
	return 0;
}

/* A process that exited or hides its maps from us: not an error. */
static bool maps_error_skippable(int err)
{
	return err == ENOENT || err == ESRCH || err == EACCES ||
	       err == EPERM || err == ENOTDIR;
}

static int maps_scan_pid(struct file_resolver *r, struct maps_scan *s,
			 int dir_fd, const char *pid)
{
	_cleanup_fclose_ FILE *f = NULL;
	char rel[64];
	int fd, err;

	/* pid is at most 19 digits (is_pid_name) */
	snprintf(rel, sizeof(rel), "%.20s/maps", pid);
	fd = openat(dir_fd, rel, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return maps_error_skippable(errno) ? 0 : -errno;
	f = fdopen(fd, "r");
	if (!f) {
		err = -errno;
		close(fd);
		return err;
	}
	r->stats.maps_files++;

	while (s->remaining > 0) {
		const char *path;
		uint64_t dev, ino;
		ssize_t len;

		errno = 0;
		len = getline(&s->line, &s->line_cap, f);
		if (len < 0) {
			if (!ferror(f))
				break;
			err = errno ? errno : EIO;
			return maps_error_skippable(err) ? 0 : -err;
		}
		r->stats.maps_lines++;
		if (len > 0 && s->line[len - 1] == '\n')
			s->line[len - 1] = '\0';

		if (maps_parse_line(s->line, &dev, &ino, &path) <= 0 || !*path)
			continue;
		err = maps_scan_fill(s, dev, ino, path);
		if (err < 0)
			return err;
	}
	return 0;
}

static bool is_pid_name(const char *name)
{
	size_t i;

	for (i = 0; name[i]; i++)
		if (name[i] < '0' || name[i] > '9' || i >= 19)
			return false;
	return i > 0;
}

int file_resolver_scan_maps(struct file_resolver *r, struct file_query *q,
			    size_t n)
{
	_cleanup_free_ struct query_key *keys = NULL;
	_cleanup_free_ bool *filled = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	struct maps_scan s = { .q = q };
	struct dirent *de;
	size_t n_keys = 0;
	int err = 0;

	if (!r || (!q && n))
		return -EINVAL;

	for (size_t i = 0; i < n; i++)
		if (!q[i].path)
			n_keys++;
	if (n_keys == 0)
		return 0;
	if (n_keys > INT_MAX)
		return -EOVERFLOW;

	keys = calloc(n_keys, sizeof(*keys));
	filled = calloc(n_keys, sizeof(*filled));
	if (!keys || !filled)
		return -ENOMEM;
	for (size_t i = 0, k = 0; i < n; i++)
		if (!q[i].path)
			keys[k++] = (struct query_key){ q[i].dev, q[i].ino, i };
	qsort(keys, n_keys, sizeof(*keys), query_key_cmp);

	s.keys = keys;
	s.filled = filled;
	s.n_keys = n_keys;
	s.remaining = n_keys;

	d = opendir(r->proc_dir);
	if (!d) {
		err = -errno;
		goto out;
	}

	while (s.remaining > 0) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				err = -errno;
			break;
		}
		if (!is_pid_name(de->d_name))
			continue;
		err = maps_scan_pid(r, &s, dirfd(d), de->d_name);
		if (err < 0)
			break;
	}

out:
	free(s.line);
	if (err < 0) {
		/* Leave the queries as they came. */
		for (size_t k = 0; k < n_keys; k++) {
			if (!filled[k])
				continue;
			free(q[keys[k].i].path);
			q[keys[k].i].path = NULL;
			q[keys[k].i].deleted = false;
		}
		return err;
	}
	return (int)(n_keys - s.remaining);
}

void file_query_clear(struct file_query *q, size_t n)
{
	for (size_t i = 0; q && i < n; i++) {
		free(q[i].path);
		q[i].path = NULL;
		q[i].deleted = false;
	}
}

/* ---- lifetime ---------------------------------------------------------- */

int file_resolver_new(const char *proc_dir, struct file_resolver **ret)
{
	_cleanup_(file_resolver_freep) struct file_resolver *r = NULL;
	int err;

	if (!proc_dir || !ret)
		return -EINVAL;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->proc_dir = strdup(proc_dir);
	if (!r->proc_dir)
		return -ENOMEM;

	err = file_resolver_reload_mounts(r);
	if (err < 0)
		return err;

	*ret = TAKE_PTR(r);
	return 0;
}

struct file_resolver *file_resolver_free(struct file_resolver *r)
{
	if (!r)
		return NULL;
	mounts_free(r->mounts, r->n_mounts);
	free(r->proc_dir);
	free(r);
	return NULL;
}

void file_resolver_get_stats(const struct file_resolver *r,
			     struct file_resolver_stats *ret)
{
	if (r && ret)
		*ret = r->stats;
}
