/* cmd: one entry point per subcommand (git's cmd_* convention), each in its
 * own cmd_<subcommand>.c and called by main.c. Each returns the process exit
 * status. */
#ifndef TEP_CMD_H
#define TEP_CMD_H

int cmd_plan(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_cleanup(int argc, char **argv);
int cmd_durations(int argc, char **argv);

#endif
