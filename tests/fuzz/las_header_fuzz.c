/* libFuzzer target over the LAS header / VLR / EVLR / CRS parser
 * (ct_las_parse_header_bytes: the same code path as ct_las_open, in memory).
 *
 * Built two ways (tests/fuzz/CMakeLists.txt):
 *   - las_header_fuzz: clang -fsanitize=fuzzer (CT_FUZZ=ON), run e.g.
 *       ./las_header_fuzz -max_total_time=120 corpus_dir ../tests/fuzz/corpus
 *   - las_header_replay: with fuzz_replay.c's main(), which feeds every file named on
 *     the command line (or in the directories named) to the target, registered as the
 *     ctest fuzz.las_header_replay. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "citytiler/las.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ct_context *ctx = ct_context_create();
    if (!ctx) return 0;
    ct_las_reader *r = NULL;
    ct_las_open_options opts = {0, 0};
    /* the last byte chooses the options, so both paths get explored */
    if (size > 0) {
        opts.allow_truncated = data[size - 1] & 1;
        opts.skip_crs = (data[size - 1] >> 1) & 1;
    }
    if (ct_las_parse_header_bytes(ctx, "fuzz.las", data, size, &opts, &r) == CT_OK) {
        const ct_las_header *h = ct_las_get_header(r);
        /* touch everything the parser produced */
        volatile size_t sink = h->nvlrs + h->nevlrs + h->nextra_dims;
        for (size_t i = 0; i < h->nvlrs; i++) sink += h->vlrs[i].length;
        for (size_t i = 0; i < h->nevlrs; i++) sink += h->evlrs[i].length;
        if (h->crs_wkt) for (const char *p = h->crs_wkt; *p; p++) sink += (size_t)*p;
        (void)sink;
        ct_las_close(r);
    }
    ct_context_destroy(ctx);
    return 0;
}
