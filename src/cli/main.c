/* citytiler — the command line: run a pipeline, list stages, inspect inputs. */
#include <jansson.h>
#include <omp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "citytiler/assets.h"
#include "citytiler/context.h"
#include "citytiler/pipeline.h"
#include "citytiler/stage.h"
#include "citytiler/version.h"
#include "cli/cli_info.h"
#include "core/options.h"
#include "core/progress_text.h"
#include "core/utf8.h"
#include "io/gdal_log.h"

typedef struct cli_output {
    int tty;          /* stderr is a terminal: show progress */
    int progress_open;/* a progress line is on screen */
    int json;         /* --log-format json: one JSON object per log line */
    ct_progress_text progress; /* the progress line's step and when it was drawn */
    double progress_interval;  /* not on a terminal (batch logs): a progress line at most this often (s), 0 never */
    double progress_logged;    /* when the last such line was written (or the run started) */
    ct_context *ctx;           /* for the stage running (JSON lines name it) */
    int mpi;                   /* one rank of several under mpirun */
    int rank;
    char name[32];             /* "citytiler", or "citytiler[RANK]" under mpirun (the ranks' logs interleave) */
    pthread_t stop_thread;     /* takes SIGINT, SIGTERM and SIGHUP (catch_stop_signals) */
    int stop_thread_started;
} cli_output;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const char *const LEVEL_NAMES[] = {"error", "warning", "info", "debug"};

/* One JSON line of a batch log: UTC time, level, message, the stage running (when one
 * is), and `extra`'s members (taken; may be NULL). */
static void json_line(const cli_output *o, ct_log_level level, const char *msg, json_t *extra) {
    char stamp[48];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t len = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(stamp + len, sizeof stamp - len, ".%03dZ", (int)(ts.tv_nsec / 1000000)); /* (milliseconds: stages take less than a second) */
    /* A message quoting a file name or a value that is not UTF-8 (a Latin-1 CSV) was
     * dropped: jansson refuses such strings. Its bad bytes become U+FFFD. */
    char *repaired = ct_utf8_valid(msg) ? NULL : ct_utf8_repaired(msg, NULL);
    json_t *j = json_pack("{s:s, s:s, s:s}", "time", stamp, "level", LEVEL_NAMES[level], "message", repaired ? repaired : msg);
    const char *stage = o->ctx ? ct_context_current_stage(o->ctx) : NULL;
    if (j && stage) json_object_set_new(j, "stage", json_string(stage));
    if (j && o->mpi) json_object_set_new(j, "rank", json_integer(o->rank));
    if (j && extra) json_object_update(j, extra);
    json_decref(extra);
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (text) fprintf(stderr, "%s\n", text);
    else fprintf(stderr, "citytiler: %s: %s\n", LEVEL_NAMES[level], msg); /* (out of memory: never lose the line) */
    free(text);
    free(repaired);
    json_decref(j);
}

/* msg with its control bytes (a feature id holding ESC [31m recoloured the terminal, or
 * forged a line of its own with a newline) written as \xNN, in a copy the caller frees;
 * NULL when msg has none (or out of memory: msg as it is then). JSON lines escape them. */
static char *printable_copy(const char *msg) {
    size_t n = 0, extra = 0;
    for (const unsigned char *c = (const unsigned char *)msg; *c; c++, n++) extra += (*c < 0x20 || *c == 0x7f) ? 3 : 0;
    char *out = extra ? malloc(n + extra + 1) : NULL;
    if (!out) return NULL;
    char *o = out;
    for (const unsigned char *c = (const unsigned char *)msg; *c; c++) {
        if (*c < 0x20 || *c == 0x7f) o += sprintf(o, "\\x%02X", *c);
        else *o++ = (char)*c;
    }
    *o = '\0';
    return out;
}

static void log_line(void *user, ct_log_level level, const char *msg) {
    cli_output *o = user;
    if (o->progress_open) {
        fputc('\n', stderr);
        o->progress_open = 0;
    }
    if (o->json) {
        json_line(o, level, msg, NULL); /* batch logs: machine-readable lines */
        return;
    }
    /* (one call: stderr is unbuffered, and MPI ranks' lines share it) */
    char *printable = printable_copy(msg);
    fprintf(stderr, "%s: %s: %s\n", o->name, LEVEL_NAMES[level], printable ? printable : msg);
    free(printable);
}

/* A usage error of `citytiler run` (exit code 2): its line as before, or a JSON line like
 * every other with --log-format json. */
__attribute__((format(printf, 2, 3))) static int run_usage(cli_output *out, const char *fmt, ...) {
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (out->json) log_line(out, CT_LOG_ERROR, msg);
    else fprintf(stderr, "%s\n", msg);
    return 2;
}

/* Progress in a batch log (stderr not a terminal, or JSON lines): the progress line of a
 * step that has run progress_interval seconds, at most that often, a step's end left to the stage's
 * own "done" line; with --log-format json, its step and counts as fields too. An
 * overnight run's log said "stage 2: filters.heights" and nothing more for an hour. */
static void progress_log(cli_output *o, const char *line, const char *what, uint64_t done, uint64_t total, double t) {
    if (!(o->progress_interval > 0) || t - o->progress_logged < o->progress_interval ||
        t - o->progress.started < o->progress_interval || (total && done >= total))
        return; /* (not a line at the start of every step either) */
    o->progress_logged = t;
    if (!o->json) {
        fprintf(stderr, "%s: progress: %s\n", o->name, line);
        return;
    }
    json_line(o, CT_LOG_INFO, line,
              json_pack("{s:{s:s, s:I, s:I}}", "progress", "step", what, "done", (json_int_t)done, "total", (json_int_t)total));
}

/* "\rreading LiDAR: 1200000 / 5300000 (23%), 4.1 M/s, ETA 1 s" on a terminal; in batch
 * logs, such a line now and then (progress_log). */
static void progress_line(void *user, const char *what, uint64_t done, uint64_t total) {
    cli_output *o = user;
    char line[256];
    double t = now();
    if (!ct_progress_text_format(&o->progress, what, done, total, t, line, sizeof line)) return;
    if (!o->tty || o->json) {
        progress_log(o, line, what, done, total, t);
        return;
    }
    fprintf(stderr, "\r%s\033[K", line);
    o->progress_open = !(total && done >= total);
    if (!o->progress_open) fputc('\n', stderr);
}

/* The closing summary: counts in, out, and skipped or changed by reason (text lines
 * "citytiler:   skipped N: reason" that scripts may grep, or JSON log lines). */
/* One line of the closing summary, whatever the log level (--quiet keeps it): a JSON
 * log line with "summary": true, or "citytiler: LINE" (indent before LINE). */
static void summary_line(const cli_output *out, const char *line, const char *indent) {
    if (out->json) json_line(out, CT_LOG_INFO, line, json_pack("{s:b}", "summary", 1));
    else fprintf(stderr, "%s: %s%s\n", out->name, indent, line);
}

static void print_summary(ct_context *ctx, const cli_output *out, const ct_dataset *ds) {
    char line[512];
    if (ds->writers_done && ds->input_features == 0 && ds->nbuildings == 0 && ds->assets_written)
        snprintf(line, sizeof line, "done: no footprints read, %zu assets written", ds->assets_written);
    else if (ds->writers_done && ds->input_features == 0 && ds->nbuildings == 0)
        snprintf(line, sizeof line, "done: no footprints read; the process that finishes the run (the merge, or "
                 "rank 0 under mpirun) writes the assets");
    else if (ds->writers_done)
        snprintf(line, sizeof line, "done: %llu features read, %zu buildings written, %llu skipped",
                 (unsigned long long)ds->input_features, ds->buildings_written,
                 (unsigned long long)ct_dataset_skipped_total(ds));
    else if (ct_context_measure_only(ctx))
        snprintf(line, sizeof line, "done: %llu features read, %zu buildings kept, %llu skipped; measured only "
                 "(--measure-only): no tile written", (unsigned long long)ds->input_features, ds->nbuildings,
                 (unsigned long long)ct_dataset_skipped_total(ds));
    else /* a pipeline without a writer checks its inputs: say so rather than "written" */
        snprintf(line, sizeof line, "done: %llu features read, %zu buildings kept, %llu skipped; nothing written (no writer stage)",
                 (unsigned long long)ds->input_features, ds->nbuildings, (unsigned long long)ct_dataset_skipped_total(ds));
    summary_line(out, line, "");
    for (int pass = 0; pass < 2; pass++) {
        const ct_reason_count *r = pass ? ds->changed : ds->skipped;
        size_t n = pass ? ds->nchanged : ds->nskipped;
        for (size_t i = 0; i < n; i++) {
            snprintf(line, sizeof line, "%s %llu: %s", pass ? "changed" : "skipped", (unsigned long long)r[i].count,
                     r[i].reason);
            summary_line(out, line, "  ");
        }
    }
    if (ds->assets) {
        const ct_asset_set *a = ds->assets;
        uint64_t skipped = 0;
        for (size_t i = 0; i < a->nskipped; i++) skipped += a->skipped[i].count;
        snprintf(line, sizeof line, "assets: %llu read, %zu kept, %llu skipped", (unsigned long long)a->input_rows, a->n,
                 (unsigned long long)skipped);
        summary_line(out, line, "  ");
        for (size_t i = 0; i < a->nskipped; i++) {
            snprintf(line, sizeof line, "assets skipped %llu: %s", (unsigned long long)a->skipped[i].count,
                     a->skipped[i].reason);
            summary_line(out, line, "  ");
        }
    }
}

/* What `citytiler run` and `merge` take (also `citytiler run --help`). */
static const char RUN_HELP[] =
    "  run PIPELINE.json [--threads N] [--set TYPE.OPTION=VALUE]... [--quiet|--verbose]\n"
    "                    [--log-format text|json] [--resume] [--memory-limit MiB]\n"
    "                    [--partition K/N [--measure-only]] [--progress-interval S]\n"
    "        runs a JSON pipeline (see pipelines/README.md)\n"
    "        --threads N (default: every core) threads of this process\n"
    "        --set overrides an option of every stage of that type,\n"
    "        e.g. --set writers.3dtiles.path=out/tiles (repeatable)\n"
    "        --memory-limit caps the memory for LiDAR points: beyond it they go to a\n"
    "        temporary file and heights are computed one processing cell at a time\n"
    "        --resume keeps the tiles an interrupted run (killed, out of time) already\n"
    "        finished in OUTPUT.partial and writes only the rest\n"
    "        --partition K/N builds only partition K of N, K from 0 to N-1 (processing\n"
    "        cells split deterministically), for independent processes such as Slurm\n"
    "        array jobs (--partition $SLURM_ARRAY_TASK_ID/N with --array=0-(N-1))\n"
    "        --measure-only (with --partition K/N) reads only the LiDAR of partition K's\n"
    "        band of the city, measures its buildings and assets, and stops; once every\n"
    "        partition did, `run --partition K/N` takes their measurements (no LiDAR)\n"
    "        --quiet (-q): warnings, errors and the closing summary only (no progress); --verbose (-v):\n"
    "        debug lines too (timings inside stages)\n"
    "        --log-format json: one JSON object a line on stderr, for batch logs\n"
    "        --progress-interval S: when stderr is no terminal (or with JSON lines), a\n"
    "        progress line at most every S seconds (default 30; 0: none)\n"
    "  mpirun -np N citytiler run PIPELINE.json   (built with CT_WITH_MPI): ranks split\n"
    "        the cells, rank 0 writes tileset.json; same bytes as one process\n";
static const char MERGE_HELP[] =
    "  merge PIPELINE.json [--set ...] [--threads N] [--log-format text|json]\n"
    "                      [--quiet|--verbose] [--memory-limit MiB] [--progress-interval S]\n"
    "        after all `run --partition K/N` processes ended: writes tileset.json from\n"
    "        their tiles (the pipeline is run again up to the writer, with the heights\n"
    "        the partitions measured: the LiDAR is not read unless it changed since)\n";
static const char INFO_HELP[] =
    "  info FILE [--classes]  describe a LAS file or an OGR vector source as JSON\n"
    "        (--classes: a LAS file's points per classification, reading every point)\n";
static const char STAGES_HELP[] = "  stages                 list every stage type with its options and defaults\n";
static const char EXIT_CODES[] = "exit codes: 0 success, 1 runtime failure, 2 bad usage, pipeline or input\n";

static void usage(FILE *f) {
    fprintf(f,
            "usage: citytiler <command> [options]   (citytiler <command> --help: that command)\n"
            "\n"
            "Turns building footprints (any GDAL vector source) and LiDAR (LAS 1.0-1.4) into\n"
            "a streamable 3D city model (glTF 2.0 / OGC 3D Tiles 1.1).\n"
            "\n"
            "commands:\n%s%s%s%s"
            "  --help, --version\n"
            "\n"
            "%s"
            "pipelines: see pipelines/README.md\n",
            RUN_HELP, MERGE_HELP, STAGES_HELP, INFO_HELP, EXIT_CODES);
}

/* `citytiler COMMAND --help` (or `citytiler help COMMAND`): that command's part of the
 * usage, on stdout; 0 when the command is known, else -1. */
static int command_help(const char *cmd) {
    const char *text = strcmp(cmd, "run") == 0      ? RUN_HELP
                       : strcmp(cmd, "merge") == 0  ? MERGE_HELP
                       : strcmp(cmd, "info") == 0   ? INFO_HELP
                       : strcmp(cmd, "stages") == 0 ? STAGES_HELP
                                                    : NULL;
    if (!text) return -1;
    printf("usage:\n%s\n%s", text, EXIT_CODES);
    return 0;
}

/* The options of `run` (and merge) that take a value: the one list both asks_help and
 * cmd_run read, so that a value is never taken for an option (`--set --help` sets). */
static const char *const VALUE_OPTIONS[] = {"--threads", "--set", "--log-format", "--memory-limit",
                                            "--progress-interval", "--partition", NULL};

static int takes_value(const char *a) {
    for (size_t k = 0; VALUE_OPTIONS[k]; k++)
        if (strcmp(a, VALUE_OPTIONS[k]) == 0) return 1;
    return 0;
}

/* 1 when an argument after the command asks for help (--help or -h; not the value of
 * an option taking one). */
static int asks_help(int argc, char **argv) {
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return 1;
        if (i + 1 < argc && takes_value(argv[i])) i++;
    }
    return 0;
}

static int cmd_stages(void) {
    const ct_stage_vtable *const *reg = ct_stage_registry();
    for (size_t i = 0; reg[i]; i++) {
        printf("%s\n    %s\n", reg[i]->type, reg[i]->summary);
        for (const ct_option_def *d = reg[i]->options; d->name; d++) {
            printf("    %-24s %-12s %s%s", d->name, ct_option_type_name(d->type), d->help,
                   d->required ? " (required)" : "");
            if (d->default_json) printf(" [default: %s]", d->default_json);
            printf("\n");
        }
        printf("\n");
    }
    return 0;
}

/* A usage error under mpirun, said once (by rank 0), though every rank stops with it. */
static int mpi_usage(const ct_context *ctx, cli_output *out, const char *msg) {
    int k, n;
    ct_context_partition(ctx, &k, &n);
    if (k != 0) return 2;
    return run_usage(out, "citytiler: %s", msg);
}

static int parse_threads(const char *s, int *out) {
    char *end = NULL;
    long n = strtol(s, &end, 10);
    if (!end || *end || n < 1 || n > 1024) return 0;
    *out = (int)n;
    return 1;
}

/* A run stopped by SIGINT (Ctrl-C), SIGTERM (a batch queue's time limit, `kill`) or SIGHUP
 * said nothing: the log ended mid-stage. It now says what is kept and how to finish, then
 * dies of the signal as before (exit 128 + its number; the work directory stays for
 * --resume). The signals are blocked in every thread and taken by one thread of their
 * own (sigwait), which writes that line as any other (time, stage and rank in a JSON
 * line, where a handler could only write(2) a fixed text). */
/* (SIGUSR1/2: a batch queue's warning before its time limit, e.g. Slurm's --signal; SIGXCPU:
 * a CPU time limit: each killed the run without a line) */
static const int STOP_SIGNALS[] = {SIGINT, SIGTERM, SIGHUP, SIGXCPU, SIGUSR1, SIGUSR2};
static const char *const STOP_SIGNAL_NAMES[] = {"SIGINT", "SIGTERM", "SIGHUP", "SIGXCPU", "SIGUSR1", "SIGUSR2"};
enum { N_STOP_SIGNALS = sizeof STOP_SIGNALS / sizeof *STOP_SIGNALS };

static void stop_signal_set(sigset_t *set) {
    sigemptyset(set);
    for (size_t i = 0; i < N_STOP_SIGNALS; i++) {
        /* A signal ignored when the run started stays ignored (nohup, a shell's background job). */
        struct sigaction old;
        if (sigaction(STOP_SIGNALS[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        sigaddset(set, STOP_SIGNALS[i]);
    }
}

static void *stop_waiter(void *arg) {
    cli_output *o = arg;
    sigset_t set;
    stop_signal_set(&set);
    int sig = 0;
    if (sigwait(&set, &sig) != 0) return NULL;
    /* The same signal sent twice at once is one stop: `timeout` sends it to the process
     * and to its group, and the second, arriving after the unblocking below, killed the
     * run before its line (1 to 4 runs in 50 with JSON lines). Taken here for 20 ms. */
    const struct timespec settle = {0, 20000000};
    siginfo_t info;
    for (int i = 0; i < 4 && sigtimedwait(&set, &info, &settle) > 0; i++) {
    }
    /* A second signal kills at once (the log line below may wait for a stuck writer). */
    for (size_t i = 0; i < N_STOP_SIGNALS; i++)
        if (sigismember(&set, STOP_SIGNALS[i])) signal(STOP_SIGNALS[i], SIG_DFL);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    const char *name = "a signal";
    for (size_t i = 0; i < N_STOP_SIGNALS; i++)
        if (STOP_SIGNALS[i] == sig) name = STOP_SIGNAL_NAMES[i];
    /* Under mpirun the signal usually comes from mpirun ending the job after another rank
     * failed (MPI_Abort), whose error is the one to read. */
    /* (before the writer no tile is written: nothing to resume) */
    const char *stage = ct_context_current_stage(o->ctx);
    int writing = stage && strncmp(stage, "writers.", 8) == 0;
    if (o->mpi)
        ct_log(o->ctx, CT_LOG_ERROR, "stopped by %s (under mpirun: another rank failed, its error says why, or the job "
                                     "was stopped)%s", name,
               writing ? "; tiles already written stay in the output's .partial folder" : "");
    else if (writing && ct_context_output_done(o->ctx))
        ct_log(o->ctx, CT_LOG_ERROR, "stopped by %s after the output was complete and in place: nothing to resume (a "
                                     "folder of the earlier tileset, PATH.old-N, may be left: the next run removes it)",
               name);
    else if (writing)
        ct_log(o->ctx, CT_LOG_ERROR, "stopped by %s: tiles already written stay in the output's .partial folder; the "
                                     "same command with --resume finishes the run without writing the buildings' "
                                     "tiles again (the assets' tiles are written again)", name);
    else
        ct_log(o->ctx, CT_LOG_ERROR, "stopped by %s before any tile was written (%s): nothing to resume; run the same "
                                     "command again", name, stage ? stage : "before the first stage");
    raise(sig); /* (to this thread, where it is no longer blocked: the process dies of it) */
    return NULL;
}

/* Blocks the stop signals in this thread and every thread it starts from now on (call it
 * before any other thread starts: MPI's, OpenMP's), and starts the thread that takes them. */
static void catch_stop_signals(cli_output *out) {
    sigset_t set;
    stop_signal_set(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (pthread_create(&out->stop_thread, NULL, stop_waiter, out) != 0) {
        pthread_sigmask(SIG_UNBLOCK, &set, NULL); /* (no thread: the signals kill silently, as by default) */
        return;
    }
    out->stop_thread_started = 1;
}

/* Before the context goes: the thread would log through it (the run is over: a signal
 * now stays blocked). */
static void stop_catching(cli_output *out) {
    if (!out->stop_thread_started) return;
    pthread_cancel(out->stop_thread);
    pthread_join(out->stop_thread, NULL);
    out->stop_thread_started = 0;
}

/* What `citytiler run` was asked. */
typedef struct run_args {
    const char *pipeline_path;
    const char **sets; /* the --set values (room for argc) */
    size_t nsets;
    int threads;
    ct_log_level level;
} run_args;

/* Option a of `citytiler run` (val: its value, when it takes one): -1 when taken, else
 * the exit code of its usage error (said). */
static int run_option(ct_context *ctx, cli_output *out, const char *a, const char *val, run_args *r) {
    if (strcmp(a, "--threads") == 0) {
        if (!parse_threads(val, &r->threads))
            return run_usage(out, "citytiler run: --threads needs a whole number from 1 to 1024, got '%s'", val);
    } else if (strcmp(a, "--set") == 0) {
        r->sets[r->nsets++] = val;
    } else if (strcmp(a, "--log-format") == 0) {
        if (strcmp(val, "json") != 0 && strcmp(val, "text") != 0)
            return run_usage(out, "citytiler run: --log-format takes text or json, got '%s'", val);
        out->json = strcmp(val, "json") == 0;
    } else if (strcmp(a, "--memory-limit") == 0) {
        char *end = NULL;
        double mib = strtod(val, &end);
        if (!end || *end || !(mib > 0) || mib > 1e9)
            return run_usage(out, "citytiler run: --memory-limit takes MiB (a positive number: it caps readers.lidar's "
                             "memory_limit; --set readers.lidar.memory_limit=0 lifts the limit), got '%s'", val);
        ct_context_set_memory_limit(ctx, mib);
    } else if (strcmp(a, "--progress-interval") == 0) {
        char *end = NULL;
        double secs = strtod(val, &end);
        if (!end || *end || !(secs >= 0) || secs > 1e6)
            return run_usage(out, "citytiler run: --progress-interval takes seconds (0: no progress lines), got '%s'",
                             val);
        out->progress_interval = secs;
    } else if (ct_context_merge(ctx) && (strcmp(a, "--resume") == 0 || strcmp(a, "--partition") == 0)) {
        /* (they were taken and did nothing) */
        return run_usage(out, "citytiler merge: %s is for `citytiler run` (merge takes the partitions' tiles as they "
                              "are; see citytiler merge --help)", a);
    } else if (strcmp(a, "--resume") == 0) {
        ct_context_set_resume(ctx, 1);
    } else if (strcmp(a, "--partition") == 0) {
        if (ct_context_has_barrier(ctx)) /* (the ranks' share was replaced: they failed on each other's results) */
            return mpi_usage(ctx, out, "--partition K/N is for independent processes: under mpirun the ranks split "
                                       "the cells themselves; run `mpirun -np N citytiler run PIPELINE.json` without it");
        int k = -1, n = 0, used = 0;
        /* (digits only: sscanf also took " 1/ 2" and "+1/2") */
        int digits = val[0] >= '0' && val[0] <= '9' && strspn(val, "0123456789/") == strlen(val);
        if (!digits || sscanf(val, "%d/%d%n", &k, &n, &used) != 2 || val[used] || n < 1 || n > 100000 || k < 0 || k >= n)
            return run_usage(out, "citytiler run: --partition takes K/N with 0 <= K < N, got '%s'", val);
        ct_context_set_partition(ctx, k, n);
    } else if (strcmp(a, "--measure-only") == 0) {
        if (ct_context_merge(ctx))
            return run_usage(out, "citytiler merge: --measure-only is for `citytiler run --partition K/N`");
        ct_context_set_measure_only(ctx, 1);
    } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
        if (r->level == CT_LOG_DEBUG) return run_usage(out, "citytiler run: --quiet and --verbose: give one of them");
        r->level = CT_LOG_WARN;
    } else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
        if (r->level == CT_LOG_WARN) return run_usage(out, "citytiler run: --quiet and --verbose: give one of them");
        r->level = CT_LOG_DEBUG;
    } else if (a[0] == '-' && a[1]) {
        return run_usage(out, "citytiler run: unknown or incomplete option '%s' (see citytiler --help)", a);
    } else if (!r->pipeline_path) {
        r->pipeline_path = a;
    } else {
        return run_usage(out, "citytiler run: one pipeline file only ('%s' and '%s')", r->pipeline_path, a);
    }
    return -1;
}

/* The arguments of `citytiler run` into r: -1 when they make a run, else the exit code
 * of the usage error (said). */
static int parse_run_args(ct_context *ctx, cli_output *out, int argc, char **argv, run_args *r) {
    /* --log-format json first, so that errors in the other options are JSON lines too */
    for (int i = 0; i + 1 < argc; i++)
        if (strcmp(argv[i], "--log-format") == 0 && strcmp(argv[i + 1], "json") == 0) out->json = 1;
    if (ct_context_merge(ctx) && ct_context_has_barrier(ctx)) /* (every rank merged, racing for the files) */
        return mpi_usage(ctx, out, "merge runs in one process, after `citytiler run --partition K/N`; under mpirun "
                                   "(`mpirun -np N citytiler run PIPELINE.json`) rank 0 writes tileset.json and there is "
                                   "nothing to merge");
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *val = takes_value(a) && i + 1 < argc ? argv[++i] : NULL; /* (NULL: none, or missing) */
        if (takes_value(a) && !val) return run_usage(out, "citytiler run: option '%s' needs a value (see citytiler --help)", a);
        int rc = run_option(ctx, out, a, val, r);
        if (rc >= 0) return rc;
    }
    if (!r->pipeline_path) return run_usage(out, "citytiler run: missing PIPELINE.json (see citytiler --help)");
    int k = 0, n = 1;
    ct_context_partition(ctx, &k, &n);
    if (ct_context_measure_only(ctx) && (n < 2 || ct_context_has_barrier(ctx)))
        return run_usage(out, "citytiler run: --measure-only goes with --partition K/N (independent processes; under "
                              "mpirun the ranks exchange what they measure)");
    return -1;
}

static int cmd_run(ct_context *ctx, cli_output *out, int argc, char **argv) {
    run_args r = {NULL, calloc((size_t)argc + 1, sizeof *r.sets), 0, omp_get_num_procs(), CT_LOG_INFO};
    if (!r.sets) {
        fprintf(stderr, "citytiler: out of memory\n");
        return 1;
    }
    int rc = parse_run_args(ctx, out, argc, argv, &r);
    if (rc >= 0) {
        free(r.sets);
        return rc;
    }
    /* A batch log's progress lines come every progress_interval: more often than a
     * terminal's redraw (0.1 s) if asked. */
    if ((!out->tty || out->json) && out->progress_interval > 0 && out->progress_interval < 0.1)
        out->progress.redraw = out->progress_interval;
    ct_context_set_logger(ctx, log_line, out, r.level);
    if (r.level == CT_LOG_WARN) ct_context_set_progress(ctx, NULL, NULL); /* (--quiet: no progress line either) */
    ct_context_set_threads(ctx, r.threads);
    ct_pipeline *p = NULL;
    ct_status st = ct_pipeline_load(ctx, r.pipeline_path, r.sets, r.nsets, &p);
    ct_dataset *ds = NULL;
    if (st == CT_OK) st = ct_pipeline_run(ctx, p, &ds);
    if (st == CT_OK && ds) print_summary(ctx, out, ds);
#ifdef CT_FREE_AT_EXIT
    ct_dataset_destroy(ds);
#else
    /* The process ends right after: the kernel takes the dataset's memory back at once,
     * where freeing a million buildings one by one took about half a second (42 ms at
     * 100k). Sanitizer builds free it, so that leak checks still see everything. */
    if (st != CT_OK) ct_dataset_destroy(ds);
#endif
    ct_pipeline_destroy(p);
    free(r.sets);
    if (st != CT_OK) {
        log_line(out, CT_LOG_ERROR, ct_error_message(ctx)); /* (a JSON line with --log-format json, as every other) */
        return ct_status_exit_code(st);
    }
    return 0;
}

#ifdef CT_WITH_MPI
#include <limits.h>
#include <mpi.h>
static int mpi_barrier(void *user) {
    (void)user;
    return MPI_Barrier(MPI_COMM_WORLD) == MPI_SUCCESS ? 0 : -1;
}

/* Every rank's bytes to every rank: sizes first, then MPI_Allgatherv in rounds of at most
 * CHUNK bytes a rank (MPI counts and displacements are ints: the heights of 30 million
 * buildings, 72 bytes each, did not fit in one call). */
static int mpi_allgather(void *user, const void *mine, size_t bytes, void **all, size_t *counts) {
    (void)user;
    int n = 0;
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    unsigned long long b = bytes, *sizes = malloc((size_t)n * sizeof *sizes);
    int *rc = malloc((size_t)n * sizeof *rc), *displ = malloc((size_t)n * sizeof *displ);
    int ok = sizes && rc && displ && n > 0 &&
             MPI_Allgather(&b, 1, MPI_UNSIGNED_LONG_LONG, sizes, 1, MPI_UNSIGNED_LONG_LONG, MPI_COMM_WORLD) == MPI_SUCCESS;
    unsigned long long chunk = n > 0 ? (unsigned long long)(INT_MAX / 2) / (unsigned long long)n : 1;
    const char *test_chunk = getenv("CITYTILER_TEST_MPI_CHUNK"); /* test hook: rounds of fewer bytes */
    if (test_chunk && atoll(test_chunk) > 0 && (unsigned long long)atoll(test_chunk) < chunk)
        chunk = (unsigned long long)atoll(test_chunk);
    unsigned long long total = 0, most = 0;
    for (int r = 0; ok && r < n; r++) {
        counts[r] = (size_t)sizes[r];
        total += sizes[r];
        if (sizes[r] > most) most = sizes[r];
    }
    const unsigned long long rounds = ok && most > 0 ? (most + chunk - 1) / chunk : 0;
    char *round_buf = NULL;
    if (ok) ok = (*all = malloc(total ? (size_t)total : 1)) != NULL;
    if (ok && rounds > 1) ok = (round_buf = malloc((size_t)chunk * (size_t)n)) != NULL;
    /* All ranks go on only if every one could allocate (else the others would wait). */
    int all_ok = 0;
    if (MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD) != MPI_SUCCESS) all_ok = 0;
    ok = all_ok;
    for (unsigned long long k = 0; ok && k < rounds; k++) {
        /* round k: bytes [k * chunk, (k + 1) * chunk) of every rank's contribution */
        unsigned long long at = 0;
        for (int r = 0; r < n; r++) {
            unsigned long long from = k * chunk, left = sizes[r] > from ? sizes[r] - from : 0;
            rc[r] = (int)(left < chunk ? left : chunk);
            displ[r] = (int)at;
            at += (unsigned long long)rc[r];
        }
        unsigned long long from = k * chunk < bytes ? k * chunk : bytes, left = bytes - from;
        int send = (int)(left < chunk ? left : chunk);
        char *dst = rounds > 1 ? round_buf : (char *)*all;
        ok = MPI_Allgatherv((const char *)mine + from, send, MPI_BYTE, dst, rc, displ, MPI_BYTE, MPI_COMM_WORLD) ==
             MPI_SUCCESS;
        unsigned long long base = 0; /* where rank r's contribution begins in *all */
        for (int r = 0; ok && rounds > 1 && r < n; r++) {
            if (rc[r] > 0) memcpy((char *)*all + base + k * chunk, round_buf + displ[r], (size_t)rc[r]);
            base += sizes[r];
        }
    }
    free(round_buf);
    free(sizes);
    free(rc);
    free(displ);
    return ok ? 0 : -1;
}
#endif

/* readers.lidar holds every LAS file of its stage open (a directory of tiles may hold
 * thousands), and the soft limit of open files is often 1024 where the hard one is far
 * higher: the soft limit goes up to the hard one (nothing here uses select()). */
static void allow_open_files(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) return;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 && rl.rlim_max > 1048576) { /* (Linux caps it at nr_open) */
        rl.rlim_cur = 1048576;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv) {
    allow_open_files();
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        if (argc > 2 && strcmp(cmd, "help") == 0 && command_help(argv[2]) == 0) return 0;
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) { /* (whatever follows, as --help) */
        printf("citytiler %s\n", ct_version());
        return 0;
    }
    if (asks_help(argc, argv)) { /* (it was "unknown or incomplete option '--help'") */
        if (command_help(cmd) == 0) return 0;
        fprintf(stderr, "citytiler: unknown command '%s' (see citytiler --help)\n", cmd);
        return 2;
    }
    if (strcmp(cmd, "stages") == 0) {
        if (argc > 2) {
            fprintf(stderr, "citytiler stages: takes no arguments, got '%s' (it lists every stage type)\n", argv[2]);
            return 2;
        }
        return cmd_stages();
    }
    cli_output out;
    memset(&out, 0, sizeof out);
    snprintf(out.name, sizeof out.name, "citytiler");
    out.tty = isatty(STDERR_FILENO);
    out.progress_interval = 30;
    out.progress_logged = now();
    ct_context *ctx = ct_context_create();
    if (!ctx) {
        fprintf(stderr, "citytiler: out of memory\n");
        return 1;
    }
    out.ctx = ctx;
    ct_context_set_logger(ctx, log_line, &out, CT_LOG_INFO);
    ct_context_set_progress(ctx, progress_line, &out);
    ct_gdal_log_install(ctx);
    if (strcmp(cmd, "run") == 0 || strcmp(cmd, "merge") == 0) catch_stop_signals(&out);
#ifdef CT_WITH_MPI
    /* Under mpirun every rank runs the whole pipeline and builds the tiles of its share
     * of the cells; rank 0 writes tileset.json (see writers.3dtiles). */
    /* MPI only when a launcher started us (mpirun, srun): a plain run stays MPI-free. */
    int use_mpi = getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_SIZE");
    int mpi_rank = 0, mpi_size = 1;
    if (use_mpi) {
        MPI_Init(&argc, &argv);
        MPI_Comm_rank(MPI_COMM_WORLD, &mpi_rank);
        MPI_Comm_size(MPI_COMM_WORLD, &mpi_size);
    }
    if (mpi_size > 1) {
        ct_context_set_partition(ctx, mpi_rank, mpi_size);
        ct_context_set_barrier(ctx, mpi_barrier, NULL);
        ct_context_set_allgather(ctx, mpi_allgather, NULL);
        if (mpi_rank != 0) out.tty = 0;
        out.mpi = 1;
        out.rank = mpi_rank;
        snprintf(out.name, sizeof out.name, "citytiler[%d]", mpi_rank);
    }
#endif
    int rc;
    if (strcmp(cmd, "run") == 0) rc = cmd_run(ctx, &out, argc - 2, argv + 2);
    else if (strcmp(cmd, "merge") == 0) {
        ct_context_set_merge(ctx, 1);
        rc = cmd_run(ctx, &out, argc - 2, argv + 2);
    }
    else if (strcmp(cmd, "info") == 0) rc = ct_cli_info(ctx, argc - 2, argv + 2);
    else {
        fprintf(stderr, "citytiler: unknown command '%s' (see citytiler --help)\n", cmd);
        rc = 2;
    }
    stop_catching(&out);
    ct_gdal_log_restore();
    ct_context_destroy(ctx);
#ifdef CT_WITH_MPI
    /* A rank that failed alone (its output folder unwritable, a file it alone reads)
     * left the others waiting at their next barrier or exchange, and MPI_Finalize then
     * waited for them: the run hung. A failed rank ends them all, with its exit code. */
    if (use_mpi && mpi_size > 1 && rc != 0) {
        fflush(stdout);
        fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, rc);
    }
    if (use_mpi) MPI_Finalize();
#endif
    return rc;
}
