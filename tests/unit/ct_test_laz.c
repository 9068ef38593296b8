#include "ct_test_laz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct_test.h"

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t le32(const uint8_t *p) { return (uint32_t)le16(p) | ((uint32_t)le16(p + 2) << 16); }
static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | ((uint64_t)le32(p + 4) << 32); }

int ct_test_lasfile_parse(ct_test_lasfile *f) {
    const uint8_t *b = f->bytes;
    if (f->size < 227 || memcmp(b, "LASF", 4) != 0) return -1;
    f->header_size = le16(b + 94);
    f->offset_to_points = le32(b + 96);
    f->nvlrs = le32(b + 100);
    f->point_format = b[104];
    f->record_length = le16(b + 105);
    f->point_count = le32(b + 107);
    f->points_end = f->size;
    if (b[25] >= 4 && f->size >= 375) {
        uint64_t n14 = le64(b + 247);
        if (n14) f->point_count = n14;
        uint64_t evlr = le64(b + 235);
        if (le32(b + 243) && evlr > f->offset_to_points && evlr <= f->size) f->points_end = evlr;
    }
    return 0;
}

int ct_test_lasfile_load(const char *path, ct_test_lasfile *f) {
    memset(f, 0, sizeof *f);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        fprintf(stderr, "%s: cannot open\n", path);
        return -1;
    }
    fseek(fp, 0, SEEK_END);
    long sz = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    f->bytes = malloc(sz > 0 ? (size_t)sz : 1);
    f->size = sz > 0 ? (size_t)sz : 0;
    int ok = f->bytes && fread(f->bytes, 1, f->size, fp) == f->size;
    fclose(fp);
    if (!ok || ct_test_lasfile_parse(f) != 0) {
        fprintf(stderr, "%s: cannot read a LAS header\n", path);
        ct_test_lasfile_free(f);
        return -1;
    }
    return 0;
}

void ct_test_lasfile_free(ct_test_lasfile *f) {
    free(f->bytes);
    f->bytes = NULL;
}

const uint8_t *ct_test_laszip_vlr(const ct_test_lasfile *f, size_t *len) {
    size_t p = f->header_size;
    for (uint32_t i = 0; i < f->nvlrs && p + 54 <= f->size; i++) {
        size_t n = le16(f->bytes + p + 20);
        if (p + 54 + n > f->size) return NULL;
        if (strncmp((const char *)f->bytes + p + 2, "laszip encoded", 16) == 0 && le16(f->bytes + p + 18) == 22204) {
            *len = n;
            return f->bytes + p + 54;
        }
        p += 54 + n;
    }
    return NULL;
}

int ct_test_lasfile_read(void *user, uint64_t off, size_t len, void *buf) {
    const ct_test_lasfile *f = user;
    if (off > f->size || len > f->size - off) return -1;
    memcpy(buf, f->bytes + off, len);
    return 0;
}

const char *ct_test_data_path(char *buf, size_t n, const char *rel) {
    snprintf(buf, n, "%s/%s", ct_test_env("CT_SHARED_DATA", "../shared/data"), rel);
    return buf;
}
