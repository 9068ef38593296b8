# split_las.py IN OUTDIR K: the points of IN (a LAS 1.4 file, as tools/synthcity writes)
# into K files tileNN.las by y (K equal ranges), each with its count, returns and bounds
# set: a directory of LiDAR tiles, as a council's archive holds.
import os
import struct
import sys

src, outdir, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
b = open(src, 'rb').read()
assert b[:4] == b'LASF' and b[24:26] == b'\x01\x04', 'a LAS 1.4 file'
off = struct.unpack_from('<I', b, 96)[0]
rl = struct.unpack_from('<H', b, 105)[0]
n = struct.unpack_from('<Q', b, 247)[0]
scale = struct.unpack_from('<3d', b, 131)
origin = struct.unpack_from('<3d', b, 155)
pts = [b[off + i * rl:off + (i + 1) * rl] for i in range(n)]
xyz = [[struct.unpack_from('<i', p, 4 * j)[0] * scale[j] + origin[j] for j in range(3)] for p in pts]
lo, hi = min(q[1] for q in xyz), max(q[1] for q in xyz)
os.makedirs(outdir, exist_ok=True)
for t in range(k):
    a, c = lo + (hi - lo) * t / k, lo + (hi - lo) * (t + 1) / k
    sel = [i for i in range(n) if a <= xyz[i][1] < c or (t == k - 1 and xyz[i][1] == hi)]
    h = bytearray(b[:off])
    struct.pack_into('<I5I', h, 107, 0, 0, 0, 0, 0, 0)  # legacy counts: 0 (LAS 1.4)
    struct.pack_into('<Q15Q', h, 247, len(sel), len(sel), *([0] * 14))
    if sel:
        v = [xyz[i] for i in sel]
        struct.pack_into('<6d', h, 179, max(q[0] for q in v), min(q[0] for q in v), max(q[1] for q in v),
                         min(q[1] for q in v), max(q[2] for q in v), min(q[2] for q in v))
    with open(os.path.join(outdir, 'tile%02d.las' % t), 'wb') as f:
        f.write(bytes(h) + b''.join(pts[i] for i in sel))
