// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The /metrics endpoint: libmicrohttpd with its own polling thread serves
 * the text the main thread last published.  Only GET and HEAD of /metrics
 * (and / with a pointer to it) are answered; connections are limited and
 * time out, so a slow scraper cannot pile up.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>
#include "metrics.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct metrics_server {
	struct MHD_Daemon *mhd;
	pthread_mutex_t lock;
	char *text; /* guarded by lock */
};

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v == 0 || v > 65535 || s[0] == '-' || s[0] == '+')
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int metrics_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len, char *err,
		       size_t errlen)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	const char *colon = strrchr(s, ':'), *port_text = colon ? colon + 1 : s;
	size_t host_len = colon ? (size_t)(colon - s) : 0; /* "PORT" alone: no host */
	char host[128];
	uint16_t port;

	memset(ss, 0, sizeof(*ss));
	if (parse_port(port_text, &port) < 0) {
		snprintf(err, errlen, "--metrics %s: the port must be 1-65535 (ADDR:PORT)", s);
		return -EINVAL;
	}
	if (host_len >= sizeof(host)) {
		snprintf(err, errlen, "--metrics %s: address too long", s);
		return -EINVAL;
	}
	memcpy(host, s, host_len);
	host[host_len] = 0;

	if (!host[0] || !strcmp(host, "localhost")) {
		/* Loopback unless told otherwise. */
		strcpy(host, "127.0.0.1");
	}
	if (host[0] == '[') {
		size_t n = strlen(host);

		if (n < 3 || host[n - 1] != ']') {
			snprintf(err, errlen, "--metrics %s: an IPv6 address goes in brackets", s);
			return -EINVAL;
		}
		host[n - 1] = 0;
		if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1) {
			snprintf(err, errlen, "--metrics %s: '%s' is not an IPv6 address", s, host + 1);
			return -EINVAL;
		}
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*len = sizeof(*in6);
		return 0;
	}
	if (inet_pton(AF_INET, host, &in4->sin_addr) != 1) {
		snprintf(err, errlen, "--metrics %s: '%s' is not an IPv4 address (or [IPv6])", s, host);
		return -EINVAL;
	}
	in4->sin_family = AF_INET;
	in4->sin_port = htons(port);
	*len = sizeof(*in4);
	return 0;
}

void metrics_addr_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN] = "?";
	bool v6 = ss->ss_family == AF_INET6;

	if (v6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, addr, sizeof(addr));
	else
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, addr, sizeof(addr));
	/* sin_port and sin6_port sit at the same offset. */
	snprintf(buf, len, "%s%s%s:%u", v6 ? "[" : "", addr, v6 ? "]" : "",
		 ntohs(((const struct sockaddr_in *)ss)->sin_port));
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *body,
			       const char *type)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req_cls)
{
	struct metrics_server *s = cls;
	enum MHD_Result ret;
	char *copy;

	(void)version;
	(void)upload;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return respond(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n", "text/plain");
	/* Bodies are not expected; refuse rather than buffer them. */
	if (*upload_size)
		return MHD_NO;
	(void)req_cls;
	if (!strcmp(url, "/"))
		return respond(c, MHD_HTTP_OK, "cachewatchd: metrics at /metrics\n", "text/plain");
	if (strcmp(url, "/metrics"))
		return respond(c, MHD_HTTP_NOT_FOUND, "not found; try /metrics\n", "text/plain");

	pthread_mutex_lock(&s->lock);
	copy = strdup(s->text ? s->text : "");
	pthread_mutex_unlock(&s->lock);
	if (!copy)
		return MHD_NO;
	ret = respond(c, MHD_HTTP_OK, copy, CONTENT_TYPE);
	free(copy);
	return ret;
}

int metrics_server_start(struct metrics_server **ret, const struct sockaddr_storage *ss,
			 char *err, size_t errlen)
{
	struct metrics_server *s = calloc(1, sizeof(*s));
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_TURBO;
	char addr[INET6_ADDRSTRLEN + 16];

	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	if (ss->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	metrics_addr_text(ss, addr, sizeof(addr));
	s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
				  (const struct sockaddr *)ss, MHD_OPTION_CONNECTION_LIMIT, 32U,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT, 8U,
				  MHD_OPTION_CONNECTION_TIMEOUT, 10U, MHD_OPTION_END);
	if (!s->mhd) {
		int e = errno ? errno : EADDRINUSE;

		snprintf(err, errlen, "cannot serve metrics on %s: %s", addr, strerror(e));
		pthread_mutex_destroy(&s->lock);
		free(s);
		return -e;
	}
	*ret = s;
	return 0;
}

void metrics_server_publish(struct metrics_server *s, char *text)
{
	char *old;

	pthread_mutex_lock(&s->lock);
	old = s->text;
	s->text = text;
	pthread_mutex_unlock(&s->lock);
	free(old);
}

struct metrics_server *metrics_server_stop(struct metrics_server *s)
{
	if (!s)
		return NULL;
	MHD_stop_daemon(s->mhd);
	pthread_mutex_destroy(&s->lock);
	free(s->text);
	free(s);
	return NULL;
}
