#!/usr/bin/env python3
"""Rasterises the Delft AHN3 sample (LAS 1.2, point format 1) into two 1 m grids
written as ESRI ASCII grids: a DSM (highest point of any class per cell) and a DTM
(mean of the ground points, class 2, per cell). Cells without points are nodata
(-9999), as in AHN's own DTM under buildings and water. Standard library only;
make_rasters.sh turns the grids into compressed GeoTIFFs with gdal_translate.

usage: make_rasters.py LAS OUTDIR
"""
import math
import struct
import sys

NODATA = -9999.0
CELL = 1.0


def read_las(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"LASF":
        sys.exit(f"{path}: not a LAS file")
    major, minor = data[24], data[25]
    offset_to_points = struct.unpack_from("<I", data, 96)[0]
    fmt = data[104]
    rec_len = struct.unpack_from("<H", data, 105)[0]
    count = struct.unpack_from("<I", data, 107)[0]
    scale = struct.unpack_from("<3d", data, 131)
    offset = struct.unpack_from("<3d", data, 155)
    mins = struct.unpack_from("<6d", data, 179)  # max x, min x, max y, min y, max z, min z
    if (major, minor) != (1, 2) or fmt not in (0, 1, 2, 3):
        sys.exit(f"{path}: expected LAS 1.2 with point format 0-3, got {major}.{minor} format {fmt}")
    pts = []
    for i in range(count):
        o = offset_to_points + i * rec_len
        xi, yi, zi = struct.unpack_from("<3i", data, o)
        cls = data[o + 15] & 0x1F
        pts.append((xi * scale[0] + offset[0], yi * scale[1] + offset[1], zi * scale[2] + offset[2], cls))
    return pts, (mins[1], mins[3], mins[0], mins[2])


def write_asc(path, grid, ncols, nrows, xll, yll):
    with open(path, "w") as f:
        f.write(f"ncols {ncols}\nnrows {nrows}\nxllcorner {xll:.1f}\nyllcorner {yll:.1f}\n")
        f.write(f"cellsize {CELL:.1f}\nNODATA_value {NODATA:.0f}\n")
        for r in range(nrows):  # first row is the northernmost
            f.write(" ".join("%.3f" % v if v != NODATA else "-9999" for v in grid[r]) + "\n")


def main():
    las, outdir = sys.argv[1], sys.argv[2]
    pts, (xmin, ymin, xmax, ymax) = read_las(las)
    x0, y0 = math.floor(xmin), math.floor(ymin)
    ncols, nrows = int(math.ceil(xmax)) - x0, int(math.ceil(ymax)) - y0
    dsm = [[NODATA] * ncols for _ in range(nrows)]
    gsum = [[0.0] * ncols for _ in range(nrows)]
    gcnt = [[0] * ncols for _ in range(nrows)]
    for x, y, z, cls in pts:
        c = min(int((x - x0) // CELL), ncols - 1)
        r = nrows - 1 - min(int((y - y0) // CELL), nrows - 1)
        if dsm[r][c] == NODATA or z > dsm[r][c]:
            dsm[r][c] = z
        if cls == 2:
            gsum[r][c] += z
            gcnt[r][c] += 1
    dtm = [[gsum[r][c] / gcnt[r][c] if gcnt[r][c] else NODATA for c in range(ncols)] for r in range(nrows)]
    write_asc(f"{outdir}/dsm.asc", dsm, ncols, nrows, x0, y0)
    write_asc(f"{outdir}/dtm.asc", dtm, ncols, nrows, x0, y0)
    print(f"{len(pts)} points, grid {ncols} x {nrows} at {CELL} m from ({x0}, {y0})")


if __name__ == "__main__":
    main()
