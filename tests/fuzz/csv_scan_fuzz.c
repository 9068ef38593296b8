/* libFuzzer target over the CSV record scanner (ct_csv_scan_file: where each record of
 * an asset CSV starts and how many fields it has, read apart from GDAL's driver). The
 * first byte chooses the expected field count (0-7); the rest is the file, given to the
 * scanner through GDAL's in-memory file system. Built as csv_scan_fuzz (CT_FUZZ=ON) and
 * as csv_scan_replay (ctest fuzz.csv_scan_replay, over corpus-csv/). */
#include <cpl_vsi.h>
#include <stddef.h>
#include <stdint.h>

#include "io/csv_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    static const char path[] = "/vsimem/citytiler-fuzz.csv";
    VSILFILE *f = VSIFileFromMemBuffer(path, (GByte *)(uintptr_t)(data + 1), size - 1, FALSE);
    if (!f) return 0;
    VSIFCloseL(f);
    ct_csv_scan s;
    if (ct_csv_scan_file(path, data[0] % 8, &s) == 0) {
        volatile uint64_t sink = s.header_fields; /* touch everything the scanner produced */
        for (size_t i = 0; i < s.n; i++) sink += s.line[i] + (s.nfields ? s.nfields[i] : 0);
        (void)sink;
        ct_csv_scan_free(&s);
    }
    VSIUnlink(path);
    return 0;
}
