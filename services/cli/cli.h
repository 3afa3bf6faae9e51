/* cli: the hetki operator command; each subcommand lives in its own file. */
#ifndef CLI_H
#define CLI_H

/* Each subcommand takes the arguments after its name and returns the process exit code. */
int cli_up(int argc, char **argv);
int cli_send(int argc, char **argv);
int cli_status(int argc, char **argv);
int cli_agent(int argc, char **argv);
int cli_confirm(int argc, char **argv);
int cli_policy(int argc, char **argv);

#endif
