/* Internal: where the records of a CSV file start and how many fields each has, read
 * apart from GDAL's CSV driver, which names no line and drops the fields of a row beyond
 * the header's without a word. */
#ifndef CT_IO_CSV_SCAN_H
#define CT_IO_CSV_SCAN_H

#include <stddef.h>
#include <stdint.h>

typedef struct ct_csv_scan {
    uint64_t *line;         /* line of the file (from 1) at which data record k starts */
    uint32_t *nfields;      /* fields of data record k; NULL when the delimiter is unknown */
    size_t n;               /* data records (the header not counted; empty lines are not records) */
    uint32_t header_fields; /* fields of the header */
} ct_csv_scan;

/* Scans the CSV file at path (a GDAL VSI path). Records start at a line that is not
 * empty; a quoted field may span lines. The delimiter is the one of ',', ';', TAB and '|'
 * that splits the header into expected_fields fields (the layer's field count); when none
 * or several do, nfields is NULL. Returns 0, or -1 (*out empty) when the file cannot be
 * read, holds no header or memory runs out. The caller frees *out with ct_csv_scan_free. */
int ct_csv_scan_file(const char *path, size_t expected_fields, ct_csv_scan *out);

void ct_csv_scan_free(ct_csv_scan *s);

#endif
