/* SPDX-License-Identifier: Apache-2.0 */
/* The `cordon` command-line tool: subcommands. */
#ifndef CORDON_CLI_H
#define CORDON_CLI_H

#ifndef CORDON_CLI_DEFAULT_MANIFEST
#  define CORDON_CLI_DEFAULT_MANIFEST "cordon-manifest.txt"
#endif

int cordon_cli_audit(int argc, char **argv);
int cordon_cli_info(int argc, char **argv);

#endif /* CORDON_CLI_H */
