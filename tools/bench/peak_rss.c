/* peak_rss COMMAND [ARGS...]: runs COMMAND and prints its peak resident set size in KiB (its
 * own and its waited-for descendants', as wait4() reports it), then exits as COMMAND did.
 *
 * A separate static program, because a vfork()ed or fork()ed child's peak counts the memory
 * of the process it came from until its execve: from launch_bench, which is several MiB, that
 * would be measured, not COMMAND. This one is a few pages. */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: peak_rss COMMAND [ARGS...]\n");
    return 2;
  }
  pid_t pid = vfork();
  if (pid == 0) {
    execv(argv[1], argv + 1);
    _exit(127);
  }
  if (pid < 0) return 125;
  int status = 0;
  struct rusage usage;
  if (wait4(pid, &status, 0, &usage) != pid) return 125;
  printf("%ld\n", usage.ru_maxrss);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
