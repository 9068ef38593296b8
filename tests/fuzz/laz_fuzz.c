/* libFuzzer target over LAZ: a whole file in memory through the LAS header parser with
 * its LASzip VLR and chunk table (ct_las_parse_header_bytes, as ct_las_open), then every
 * chunk decoded from those bytes (ct_laz_decode_chunk, as ct_las_read_raw). A damaged
 * file must give an error, never a crash, a hang or a read out of bounds.
 *
 * Built as tests/fuzz/CMakeLists.txt says (laz_replay: the ctest fuzz.laz_replay over
 * corpus-laz; laz_fuzz: the libFuzzer binary with CT_FUZZ=ON and Clang). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "citytiler/las.h"
#include "io/las_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Records decoded per input at most (a header may claim billions). */
enum { MAX_RECORDS = 1 << 20 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ct_context *ctx = ct_context_create();
    if (!ctx) return 0;
    ct_las_reader *r = NULL;
    ct_las_open_options opts = {0, 1}; /* (the CRS has its own target: las_header) */
    if (ct_las_parse_header_bytes(ctx, "fuzz.laz", data, size, &opts, &r) == CT_OK && r->laz) {
        size_t rl = r->laz->record_length, budget = MAX_RECORDS;
        for (size_t k = 0; k < r->nchunks; k++) {
            const ct_laz_chunk *c = &r->chunks[k];
            if (c->points > budget || c->offset > size || c->bytes > size - c->offset) break;
            budget -= c->points;
            uint8_t *out = malloc((size_t)c->points * rl + 1);
            if (!out) break;
            ct_status st = ct_laz_decode_chunk(ctx, "fuzz.laz", r->laz, k, data + c->offset, (size_t)c->bytes,
                                               c->points, out);
            free(out);
            if (st != CT_OK) break;
        }
    }
    ct_las_close(r);
    ct_context_destroy(ctx);
    return 0;
}
