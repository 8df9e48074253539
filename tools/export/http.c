// SPDX-License-Identifier: GPL-2.0
/*
 * heapstat export's HTTP server: GET (and HEAD) /metrics, nothing else. One
 * poll loop, every socket non-blocking: a connection is read until its
 * request line and headers are whole (HTTP_MAX_REQUEST bytes at most),
 * answered in one response with a Content-Length, written as the client
 * takes it, and closed (Connection: close). A client silent or slow for
 * HTTP_TIMEOUT_MS is dropped, and at most HTTP_MAX_CLIENTS are served at
 * once: a new one takes the slot of an older one (slot_for_new()), so that
 * no client holds up another's scrape (idle connections by the dozen would,
 * each for HTTP_TIMEOUT_MS, were the new one left in the listen backlog;
 * so would clients answered that never close), though not of one not yet
 * answered and connected less than HTTP_GRACE_MS ago, HTTP_IDLE_MS if it
 * sent nothing (a burst of scrapers is served whole: meanwhile the backlog
 * waits). Out of file descriptors, the new one takes the fd of such an
 * older one; with none, the backlog waits HTTP_ACCEPT_PAUSE_MS (the
 * listening socket stays readable). HEAD is answered as GET, without a body
 * (its errors too). 404 for another path (a target in absolute form,
 * http://HOST/PATH, is PATH), 405 for another method, 400 for what is not
 * HTTP (an HTTP/1.1 request without Host, two Host lines, a NUL before the
 * headers' end), 431 for a request past the bound (414 when its request line
 * is).
 */
#define _GNU_SOURCE	/* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/text.h"
#include "lib/util.h"
#include "export.h"

struct http_client {
	int fd;				/* -1: a free slot */
	char req[HTTP_MAX_REQUEST + 1];
	size_t len;
	char *out;			/* the response, once the request is whole */
	size_t out_len, out_off;
	bool lingering;			/* answered: read what is left until the client closes */
	bool head;			/* a HEAD request: the response's headers alone */
	uint64_t accepted_ns;
	uint64_t deadline_ns;
};

struct http_server {
	int fd;
	uint64_t accept_after_ns;	/* out of fds: the backlog waits until then */
	struct http_client c[HTTP_MAX_CLIENTS];
};

/**
 * http_parse_addr() - "ADDR:PORT" as a socket address
 * @s: an IPv4 address and a port ("127.0.0.1:9464", "0.0.0.0:9464"), an
 *     IPv6 one in brackets ("[::1]:9464", "[fe80::1%eth0]:9464"), or the port
 *     alone (":9464", every interface: IPv6's any address, which takes IPv4
 *     too, see http_open())
 * @sa: a struct sockaddr_storage
 *
 * Return: 0, or -EINVAL for anything else.
 */
int http_parse_addr(const char *s, void *sa, unsigned int *salen)
{
	struct sockaddr_in *in = sa;
	struct sockaddr_in6 *in6 = sa;
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 1];	/* and its zone: "fe80::1%eth0" */
	const char *colon;
	uint64_t port;
	size_t n;
	bool any = s[0] == ':', v6 = s[0] == '[' || any;

	if (any) {
		strcpy(host, "::");
		colon = s;
		n = 2;
	} else if (v6) {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		n = end - s - 1;
		s++;
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		n = colon - s;
	}
	if (!n || n >= sizeof(host) || parse_u64(colon + 1, 1, 65535, &port))
		return -EINVAL;
	if (!any)
		memcpy(host, s, n);
	host[n] = '\0';
	memset(sa, 0, sizeof(struct sockaddr_storage));
	if (v6) {
		char *zone = strchr(host, '%');

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		if (zone) {	/* a link-local address's interface: "[fe80::1%eth0]", "%2" */
			uint64_t index;

			*zone++ = '\0';
			in6->sin6_scope_id = if_nametoindex(zone);
			if (!in6->sin6_scope_id && !parse_u64(zone, 1, UINT32_MAX, &index))
				in6->sin6_scope_id = index;
			if (!in6->sin6_scope_id)
				return -EINVAL;
		}
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return -EINVAL;
		*salen = sizeof(*in6);
	} else {
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return -EINVAL;
		*salen = sizeof(*in);
	}
	return 0;
}

/**
 * http_open() - listen on @addr ("ADDR:PORT")
 * @why: what failed, in words, when it did
 *
 * Return: 0, -EINVAL for an address that is none, or the socket's -errno
 * (-EADDRINUSE: the port is taken).
 */
int http_open(struct http_server **out, const char *addr, char *why, size_t why_len)
{
	struct sockaddr_storage sa;
	unsigned int salen;
	struct http_server *s;
	int one = 1, zero = 0, err;

	if (http_parse_addr(addr, &sa, &salen)) {
		snprintf(why, why_len, "'%s' is not [ADDR]:PORT (an IPv4 address, an IPv6 one "
			 "in brackets or none, and a port from 1 to 65535)", text_safe(addr));
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (int i = 0; i < HTTP_MAX_CLIENTS; i++)
		s->c[i].fd = -1;
	s->fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0 && errno == EAFNOSUPPORT && addr[0] == ':') {
		/* ":PORT" on a kernel without IPv6 (ipv6.disable=1): IPv4's any */
		struct sockaddr_in *in = (struct sockaddr_in *)&sa;
		uint16_t port = ((struct sockaddr_in6 *)&sa)->sin6_port;

		memset(&sa, 0, sizeof(sa));
		in->sin_family = AF_INET;
		in->sin_port = port;
		in->sin_addr.s_addr = htonl(INADDR_ANY);
		salen = sizeof(*in);
		s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	}
	if (s->fd < 0 ||
	    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    /* ":PORT" (IPv4 too) and an IPv4-mapped address ("[::ffff:127.0.0.1]"),
	     * whatever net.ipv6.bindv6only says */
	    (sa.ss_family == AF_INET6 && (addr[0] == ':' ||
	     IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&sa)->sin6_addr)) &&
	     setsockopt(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero))) ||
	    bind(s->fd, (struct sockaddr *)&sa, salen) || listen(s->fd, 64)) {
		err = -errno;
		if (err == -EADDRINUSE)
			snprintf(why, why_len, "cannot listen on %s: the port is in use", text_safe(addr));
		else if (err == -EADDRNOTAVAIL)
			snprintf(why, why_len, "cannot listen on %s: no interface has that address",
				 text_safe(addr));
		else if (err == -EINVAL && sa.ss_family == AF_INET6 &&
			 IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)&sa)->sin6_addr) &&
			 !((struct sockaddr_in6 *)&sa)->sin6_scope_id)
			snprintf(why, why_len, "cannot listen on %s: a link-local address needs its "
				 "interface, as [fe80::1%%eth0]:PORT", text_safe(addr));
		else
			snprintf(why, why_len, "cannot listen on %s: %s", text_safe(addr), strerror(-err));
		http_close(s);
		return err;
	}
	*out = s;
	return 0;
}

static void drop(struct http_client *c)
{
	close(c->fd);
	free(c->out);
	c->out = NULL;
	c->fd = -1;
}

static int respond(struct http_client *c, const char *status, const char *type, const char *extra,
		   const char *body, size_t len)
{
	char head[512];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
			 "Content-Length: %zu\r\n%sConnection: close\r\n\r\n",
			 status, type, len, extra ? extra : "");

	c->out = malloc(n + len);
	if (!c->out)
		return -ENOMEM;
	memcpy(c->out, head, n);
	memcpy(c->out + n, body, len);
	c->out_len = n + (c->head ? 0 : len);	/* HEAD: Content-Length is GET's */
	c->out_off = 0;
	return 0;
}

static int error_page(struct http_client *c, const char *status, const char *extra)
{
	char body[128];
	int n = snprintf(body, sizeof(body), "%s\n", status);

	return respond(c, status, "text/plain; charset=utf-8", extra, body, n);
}

/* the first of header @name's lines from @l on (its name's start), NULL if none */
static char *header_line(char *l, const char *name)
{
	size_t n = strlen(name);

	for (; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncasecmp(l, name, n) && l[n] == ':')
			return l;
	return NULL;
}

/* the value of header @name in the request's header lines, NUL-terminated in place */
static const char *header(char *lines, const char *name)
{
	char *v = header_line(lines, name), *end;

	if (!v)
		return NULL;
	v += strlen(name) + 1;
	end = v + strcspn(v, "\r\n");
	while (*v == ' ' || *v == '\t')
		v++;
	*end = '\0';
	return v;
}

/* how many of the request's header lines are @name's */
static int header_count(char *lines, const char *name)
{
	int count = 0;

	for (char *l = header_line(lines, name); l; l = header_line(strchr(l, '\n'), name))
		count++;
	return count;
}

/* a tchar of RFC 9110; never the NUL (strchr() finds the string's own) */
static bool token_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* every header line "Name: value", up to the blank line */
static bool headers_ok(const char *l)
{
	while (*l && *l != '\r' && *l != '\n') {
		const char *p = l;

		while (token_char(*p))
			p++;
		if (p == l || *p != ':')
			return false;
		l = strchr(p, '\n');
		if (!l)
			return false;
		l++;
	}
	return true;
}

/* the request line: one empty line before it is ignored (RFC 9112 2.2) */
static char *request_line(char *req)
{
	return req + (req[0] == '\n' ? 1 : req[0] == '\r' && req[1] == '\n' ? 2 : 0);
}

/* a whole request in c->req: its response in c->out */
static int answer(struct http_client *c, http_metrics_fn fn, void *ctx)
{
	char *line = request_line(c->req), *eol = strchr(line, '\n'), *target, *version, *rest;
	char *query;
	char *body = NULL;
	const char *type;
	size_t len;
	int err, hosts;

	*eol = '\0';
	rest = eol + 1;
	if (eol > line && eol[-1] == '\r')
		eol[-1] = '\0';
	target = strchr(line, ' ');
	version = target ? strchr(target + 1, ' ') : NULL;
	if (!target || !version || strchr(version + 1, ' ') || target == line)
		return error_page(c, "400 Bad Request", NULL);
	*target++ = '\0';
	*version++ = '\0';
	for (const char *m = line; *m; m++)
		if (!token_char(*m))
			return error_page(c, "400 Bad Request", NULL);
	/* the absolute form a proxy is sent (RFC 9112 3.2.2), which a server takes too */
	if (!strncasecmp(target, "http://", 7) || !strncasecmp(target, "https://", 8)) {
		static char root[] = "/";
		char *host = strstr(target, "//") + 2, *path = host + strcspn(host, "/?#");

		if (path == host)	/* no host: no URI (RFC 9110 4.2.1) */
			return error_page(c, "400 Bad Request", NULL);
		target = *path == '/' ? path : root;	/* "http://h" and "http://h?q": "/" */
	}
	if (target[0] != '/' || (strcmp(version, "HTTP/1.0") && strcmp(version, "HTTP/1.1")) ||
	    !headers_ok(rest))
		return error_page(c, "400 Bad Request", NULL);
	/* one Host in HTTP/1.1, at most one before it (RFC 9112 3.2) */
	hosts = header_count(rest, "Host");
	if (hosts > 1 || (!hosts && !strcmp(version, "HTTP/1.1")))
		return error_page(c, "400 Bad Request", NULL);
	query = strchr(target, '?');
	if (query)
		*query = '\0';
	if (strcmp(target, "/metrics"))
		return error_page(c, "404 Not Found", NULL);
	if (!c->head && strcmp(line, "GET"))
		return error_page(c, "405 Method Not Allowed", "Allow: GET, HEAD\r\n");
	err = fn(ctx, header(rest, "Accept"), &body, &len, &type);
	if (err) {
		free(body);
		return error_page(c, "500 Internal Server Error", NULL);
	}
	err = respond(c, "200 OK", type, NULL, body, len);
	free(body);
	/* a sample as long as the timeout (a walk of many holders) is not its reader's */
	c->deadline_ns = now_ns() + HTTP_TIMEOUT_MS * 1000000ull;
	return err;
}

static int on_readable(struct http_client *c, http_metrics_fn fn, void *ctx)
{
	ssize_t n = recv(c->fd, c->req + c->len, HTTP_MAX_REQUEST - c->len, 0);
	char *line, *end, *crlf;

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (!n)
		return -ECONNRESET;	/* gone before asking */
	c->len += n;
	c->req[c->len] = '\0';
	line = request_line(c->req);
	/* before any answer: a HEAD's errors have no body either */
	c->head = !strncmp(line, "HEAD ", 5);
	/* a second empty line: an empty request line, not one to wait for */
	if (line[0] == '\n' || !strncmp(line, "\r\n", 2))
		return error_page(c, "400 Bad Request", NULL);
	/* the headers end at the first blank line (CRLF or a bare LF, RFC 9112
	 * 2.2): what follows is no header, and a NUL before it no request (the
	 * string functions below would stop there); one in a body is the body's */
	end = strstr(line, "\n\n");
	crlf = strstr(line, "\n\r\n");
	if (crlf && (!end || crlf < end))
		end = crlf;
	if (memchr(c->req, '\0', end ? (size_t)(end - c->req) : c->len))
		return error_page(c, "400 Bad Request", NULL);
	if (end) {
		end[1] = '\0';
		return answer(c, fn, ctx);
	}
	if (c->len == HTTP_MAX_REQUEST)
		return error_page(c, strchr(line, '\n') ?
				  "431 Request Header Fields Too Large" : "414 URI Too Long", NULL);
	return 0;
}

/*
 * Written whole: the write side is shut, and what the client still sends
 * is read and dropped until it closes (on_lingering()). Closed with unread
 * data, the socket would reset the connection, and the client might lose
 * the response (a request past the bound, a body after the headers).
 */
static int on_writable(struct http_client *c)
{
	ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	c->out_off += n;
	if (c->out_off < c->out_len)
		return 0;
	shutdown(c->fd, SHUT_WR);
	c->lingering = true;
	return 0;
}

static int on_lingering(struct http_client *c)
{
	char scratch[4096];
	ssize_t n = recv(c->fd, scratch, sizeof(scratch), 0);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	return n ? 0 : 1;	/* closed: done */
}

/* which client makes room first: one answered whole (it only waits for the
 * client to close), then one whose request is not whole, then one whose
 * response it is not reading */
static int give_way(const struct http_client *c)
{
	return c->lingering ? 0 : !c->out ? 1 : 2;
}

/*
 * A client that may make room for a new one: answered whole, or connected
 * HTTP_GRACE_MS ago, HTTP_IDLE_MS if it has sent nothing yet (a burst of
 * scrapers connected at once each has its request read, rather than be put
 * out by the next before it was; idle connections make room soon)
 */
static bool may_give_way(const struct http_client *c, uint64_t now)
{
	char b;
	bool spoke;

	if (c->lingering)
		return true;
	if (now - c->accepted_ns >= HTTP_GRACE_MS * 1000000ull)
		return true;
	spoke = c->len || c->out || recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
	return !spoke && now - c->accepted_ns >= HTTP_IDLE_MS * 1000000ull;
}

/* the client that makes room first (give_way(), then the oldest), or NULL */
static struct http_client *victim(struct http_server *s, uint64_t now)
{
	struct http_client *v = NULL;

	for (int i = 0; i < HTTP_MAX_CLIENTS; i++) {
		struct http_client *c = &s->c[i];

		if (c->fd >= 0 && may_give_way(c, now) &&
		    (!v || give_way(c) < give_way(v) ||
		     (give_way(c) == give_way(v) && c->accepted_ns < v->accepted_ns)))
			v = c;
	}
	return v;
}

/* a slot for a client accepted @now: a free one, else a victim()'s; NULL when none */
static struct http_client *slot_for_new(struct http_server *s, uint64_t now)
{
	for (int i = 0; i < HTTP_MAX_CLIENTS; i++)
		if (s->c[i].fd < 0)
			return &s->c[i];
	return victim(s, now);
}

static void accept_clients(struct http_server *s)
{
	uint64_t now = now_ns();
	struct http_client *c, *v;
	int fd;

	while ((c = slot_for_new(s, now))) {
		fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		/* out of fds: one that makes room gives its own, and the backlog goes on */
		if (fd < 0 && (errno == EMFILE || errno == ENFILE) && (v = victim(s, now))) {
			drop(v);
			continue;
		}
		if (fd < 0) {
			/* none waiting (EAGAIN), or it went (ECONNABORTED), or out of fds */
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				s->accept_after_ns = now + HTTP_ACCEPT_PAUSE_MS * 1000000ull;
			return;
		}
		if (c->fd >= 0)
			drop(c);	/* the oldest of those that make room first */
		c->fd = fd;
		c->len = 0;
		c->out = NULL;
		c->lingering = false;
		c->head = false;
		c->accepted_ns = now;
		c->deadline_ns = now + HTTP_TIMEOUT_MS * 1000000ull;
	}
}

/**
 * http_serve() - serve for up to @timeout_ms (less when a signal comes)
 * @fn: what GET /metrics answers (and HEAD, without the body)
 *
 * Return: 0, or a negative errno when the server cannot go on.
 */
int http_serve(struct http_server *s, int timeout_ms, http_metrics_fn fn, void *ctx)
{
	struct pollfd pf[HTTP_MAX_CLIENTS + 1];
	int idx[HTTP_MAX_CLIENTS + 1], n = 0, ready;
	uint64_t now = now_ns();

	for (int i = 0; i < HTTP_MAX_CLIENTS; i++) {
		struct http_client *c = &s->c[i];

		if (c->fd < 0)
			continue;
		if (now >= c->deadline_ns) {	/* silent or slow: the others go on */
			drop(c);
			continue;
		}
		pf[n] = (struct pollfd){ c->fd, c->out && !c->lingering ? POLLOUT : POLLIN, 0 };
		idx[n++] = i;
	}
	if (now < s->accept_after_ns) {
		int left = (s->accept_after_ns - now) / 1000000 + 1;

		timeout_ms = timeout_ms < 0 || timeout_ms > left ? left : timeout_ms;
	} else if (slot_for_new(s, now)) {
		pf[n] = (struct pollfd){ s->fd, POLLIN, 0 };
		idx[n++] = -1;
	}
	ready = poll(pf, n, timeout_ms);
	if (ready < 0)
		return errno == EINTR ? 0 : -errno;
	for (int k = 0; k < n && ready; k++) {
		struct http_client *c;
		int r;

		if (!pf[k].revents)
			continue;
		if (idx[k] < 0) {
			accept_clients(s);
			continue;
		}
		c = &s->c[idx[k]];
		if (c->lingering)
			r = on_lingering(c);
		else if (c->out)
			r = on_writable(c);
		else if (pf[k].revents & POLLIN)
			r = on_readable(c, fn, ctx);
		else
			r = -ECONNRESET;	/* POLLERR, POLLHUP */
		/* out of memory for one answer (-ENOMEM): that client goes, the rest are served */
		if (r)
			drop(c);
	}
	return 0;
}

void http_close(struct http_server *s)
{
	if (!s)
		return;
	for (int i = 0; i < HTTP_MAX_CLIENTS; i++)
		if (s->c[i].fd >= 0)
			drop(&s->c[i]);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}
