/* OpenMP threads that have no work sleep soon instead of spinning for long.
 *
 * libgomp spins up to 300,000 rounds (milliseconds) in every barrier and between
 * parallel regions before it sleeps. On an idle machine that costs nothing, but a batch
 * server, a CI runner with tests in parallel or `mpirun --oversubscribe` has other
 * threads waiting for the cores, and the spinning steals their time: the 10k city took
 * 2.37-4.09 s with the default beside another job, 2.10-2.75 s with passive waiting.
 *
 * libgomp reads its environment in its own initialiser, before main(), so this is set
 * from the executable's preinit_array, which the dynamic loader runs before any shared
 * library's initialiser. A value the user set (OMP_WAIT_POLICY, GOMP_SPINCOUNT) wins. */
#include <stdlib.h>

static void default_wait_policy(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    (void)envp;
    if (!getenv("OMP_WAIT_POLICY") && !getenv("GOMP_SPINCOUNT")) setenv("OMP_WAIT_POLICY", "passive", 0);
}

__attribute__((section(".preinit_array"), used)) static void (*const ct_preinit_wait_policy)(int, char **, char **) =
    default_wait_policy;
