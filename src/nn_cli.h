/* The nn-mpi program's subcommands (nn_mpi_main.c dispatches to them). Each takes the
 * arguments after its name (argv[0] is the program's name followed by the subcommand, for
 * messages) and returns the process's exit status. Commands that use MPI initialise and
 * finalise it themselves. */
#ifndef NNMPI_NN_CLI_H
#define NNMPI_NN_CLI_H

#include <stdio.h>

/* Exit statuses shared by every subcommand (nn_stop.h has the stop statuses 75, 76). */
enum { NN_EXIT_FAILED = 1, NN_EXIT_USAGE = 2 };

int nn_cmd_train(int argc, char **argv);
int nn_cmd_inspect(int argc, char **argv);
int nn_cmd_eval(int argc, char **argv);
int nn_cmd_gradcheck(int argc, char **argv);
int nn_cmd_export(int argc, char **argv);
int nn_cmd_predict(int argc, char **argv);
int nn_cmd_plot(int argc, char **argv);

/* "usage: ..." lines of every subcommand, for the top-level --help. */
void nn_cli_overview(FILE *out);

#endif
