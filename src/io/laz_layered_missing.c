/* Placeholder until src/io/laz_layered.c (formats 6-10) is merged: delete this file then. */
#include "io/laz.h"

ct_status ct_laz_decode_layered(ct_context *ctx, const char *path, const ct_laz_info *info, size_t index,
                                const uint8_t *bytes, size_t len, uint32_t npoints, uint8_t *records) {
    (void)info, (void)index, (void)bytes, (void)len, (void)npoints, (void)records;
    return ct_error(ctx, CT_ERR_UNSUPPORTED, "%s: LAZ point formats 6-10 (layered chunks) are not decoded yet", path);
}
