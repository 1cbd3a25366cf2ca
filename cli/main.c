// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cachewatch: the operators' command line.  Every subcommand reads a
 * database written by cachewatchd and never writes to it.
 */
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "top", cmd_top, "live view of the cgroups losing page cache" },
	{ "query", cmd_query, "run read-only SQL; print a table, CSV or JSON" },
	{ "report", cmd_report, "investigation report (HTML or Markdown)" },
	{ "status", cmd_status, "is the daemon recording; lost events; database size" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: cachewatch COMMAND [OPTIONS]\n"
		   "\n"
		   "Read what cachewatchd recorded: which memory cgroup lost page cache, from which\n"
		   "file, for what reason, and how fast it came back.\n"
		   "\n"
		   "Commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n"
		   "Every command takes --db PATH (default $CACHEWATCH_DB, else %s)\n"
		   "and --help.  Databases are opened read-only.\n"
		   "\n"
		   "Exit status: 0 success, 1 runtime error (e.g. no such database, SQL error),\n"
		   "2 bad usage, 3 (status) the daemon is not recording.\n"
		   "\n"
		   "See cachewatch(1) and cachewatch-COMMAND(1).\n",
		cli_default_db());
}

int main(int argc, char **argv)
{
	/* Only the character type: escaping decides what is printable itself. */
	setlocale(LC_CTYPE, "");
	if (argc < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return CLI_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("cachewatch %s\n", PACKAGE_VERSION);
		return CLI_OK;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	cli_error(NULL, "unknown command '%s' (try: cachewatch --help)", argv[1]);
	return CLI_USAGE;
}
