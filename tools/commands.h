#ifndef TOKENBOX_TOOLS_COMMANDS_H_
#define TOKENBOX_TOOLS_COMMANDS_H_

namespace tokenbox {

// Each `tokenbox` subcommand: argv[0] is the subcommand's name; the result is the exit code.
int ProbeCommand(int argc, char** argv);
int ExplainCommand(int argc, char** argv);
int RunCommand(int argc, char** argv);
int FuzzCommand(int argc, char** argv);
// In the tokenboxd binary, which can load NSS modules; `tokenbox policy` hands over to it.
int PolicyCommand(int argc, char** argv);

}  // namespace tokenbox

#endif  // TOKENBOX_TOOLS_COMMANDS_H_
