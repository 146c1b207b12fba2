// procmon: the command-line face of libprocmon.
//   procmon <command> [options]   see kUsage
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "args.hpp"
#include "journal_cmds.hpp"
#include "procmon.h"
#include "remote.hpp"
#include "snapshot.hpp"
#include "top.hpp"
#include "watch.hpp"

namespace pc = procmon::cli;

namespace {

const char kUsage[] =
    "usage: procmon <command> [options]\n"
    "\n"
    "commands:\n"
    "  snapshot    list the processes of this machine\n"
    "  top         a live view: the busiest processes, and those that come and go\n"
    "  watch       report process starts, execs and exits as they happen\n"
    "  record      record them to a journal directory\n"
    "  replay      print what a journal directory (or procmond's journal) holds\n"
    "  status      say whether procmond is up, its clients, queues and journal\n"
    "  help        this text, or a command's (procmon help snapshot)\n"
    "\n"
    "  procmon --version | --help | <command> --help\n"
    "\n"
    "snapshot, watch, top and replay ask procmond instead of reading this machine\n"
    "with --connect PATH, or when PROCMON_ENDPOINT names its socket.\n";

struct Command {
    const char *name;
    int (*run)(int argc, char **argv);
};
const Command kCommands[] = {
    {"snapshot", pc::run_snapshot}, {"watch", pc::run_watch}, {"top", pc::run_top}, {"record", pc::run_record}, {"replay", pc::run_replay},
    {"status", pc::run_status}};

const Command *find_command(const std::string &name) {
    for (const Command &c : kCommands)
        if (name == c.name) return &c;
    return nullptr;
}

int unknown_command(const std::string &name) {
    std::fprintf(stderr, "procmon: unknown command '%s' (try 'procmon help')\n", name.c_str());
    return pc::kExitUsage;
}

// `procmon help [COMMAND]`: as `procmon --help` or `procmon COMMAND --help`.
int run_help(int argc, char **argv) {
    if (argc == 0) {
        std::printf("%s\n%s", kUsage, pc::kExitHelp);
        return pc::kExitOk;
    }
    if (argc > 1) return pc::usage_error("help", "one command at a time");
    const Command *c = find_command(argv[0]);
    if (c == nullptr) return unknown_command(argv[0]);
    char help[] = "--help";
    char *args[] = {help, nullptr};
    return c->run(1, args);
}

}  // namespace

int main(int argc, char **argv) {
    // Every command: a reader that goes away (`procmon snapshot | head`) is
    // not an error. The write then fails with EPIPE, and the command stops
    // quietly with status 0, instead of dying of SIGPIPE.
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        std::fputs(kUsage, stderr);
        return pc::kExitUsage;
    }
    std::string cmd = argv[1];
    if (cmd == "-h" || cmd == "--help") return run_help(0, nullptr);
    if (cmd == "--version") {
        std::printf("procmon %s\n", procmon_version_string());
        return pc::kExitOk;
    }
    if (cmd == "help") return run_help(argc - 2, argv + 2);
    if (const Command *c = find_command(cmd)) return c->run(argc - 2, argv + 2);
    return unknown_command(cmd);
}
