/* SPDX-License-Identifier: MIT */
/* One entry point per command, each in its own cmd_<name>.c. */
#ifndef XP_CLI_COMMANDS_H
#define XP_CLI_COMMANDS_H

int cmd_init(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_create(int argc, char **argv);
int cmd_destroy(int argc, char **argv);
int cmd_resize(int argc, char **argv);
int cmd_rename(int argc, char **argv);
int cmd_assign(int argc, char **argv);
int cmd_unassign(int argc, char **argv);
int cmd_lend(int argc, char **argv);
int cmd_reclaim(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_map(int argc, char **argv);
int cmd_wipe(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_activate(int argc, char **argv);
int cmd_deactivate(int argc, char **argv);
int cmd_register(int argc, char **argv);
int cmd_unregister(int argc, char **argv);
int cmd_regions(int argc, char **argv);
/* map with --domain (cmd_map() hands it over) */
int cmd_map_guest(int argc, char **argv);
int cmd_unmap(int argc, char **argv);

#endif /* XP_CLI_COMMANDS_H */
