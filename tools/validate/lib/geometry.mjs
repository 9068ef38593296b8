// Small geometry toolkit: column-major 4x4 matrices (glTF and 3D Tiles both
// store matrices column-major), WGS84 ECEF -> geodetic conversion and
// containment tests for 3D Tiles bounding volumes (region, box, sphere).

export const identity = () => [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];

/** a × b, both column-major 4x4. */
export function multiply(a, b) {
  const r = new Array(16);
  for (let col = 0; col < 4; col++) {
    for (let row = 0; row < 4; row++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[k * 4 + row] * b[col * 4 + k];
      r[col * 4 + row] = s;
    }
  }
  return r;
}

/** Transforms point [x, y, z] by a column-major 4x4 affine matrix. */
export function transformPoint(m, x, y, z) {
  return [
    m[0] * x + m[4] * y + m[8] * z + m[12],
    m[1] * x + m[5] * y + m[9] * z + m[13],
    m[2] * x + m[6] * y + m[10] * z + m[14],
  ];
}

/** Matrix of translation t, unit quaternion q = [x, y, z, w] and scale s: T × R × S. */
export function trsMatrix(t = [0, 0, 0], q = [0, 0, 0, 1], s = [1, 1, 1]) {
  const [x, y, z, w] = q;
  const xx = x * x, yy = y * y, zz = z * z, xy = x * y, xz = x * z, yz = y * z, wx = w * x, wy = w * y, wz = w * z;
  return [
    (1 - 2 * (yy + zz)) * s[0], 2 * (xy + wz) * s[0], 2 * (xz - wy) * s[0], 0,
    2 * (xy - wz) * s[1], (1 - 2 * (xx + zz)) * s[1], 2 * (yz + wx) * s[1], 0,
    2 * (xz + wy) * s[2], 2 * (yz - wx) * s[2], (1 - 2 * (xx + yy)) * s[2], 0,
    t[0], t[1], t[2], 1,
  ];
}

/** Local matrix of a glTF node (either `matrix` or TRS). */
export function nodeMatrix(node) {
  if (Array.isArray(node.matrix) && node.matrix.length === 16) return node.matrix.slice();
  return trsMatrix(node.translation, node.rotation, node.scale);
}

/** glTF is y-up, 3D Tiles is z-up: (x, y, z) -> (x, -z, y). */
export const Y_UP_TO_Z_UP = [1, 0, 0, 0, 0, 0, 1, 0, 0, -1, 0, 0, 0, 0, 0, 1];

// WGS84 ellipsoid
const WGS84_A = 6378137.0;
const WGS84_F = 1 / 298.257223563;
const WGS84_E2 = WGS84_F * (2 - WGS84_F);

/**
 * ECEF (m) -> [lon rad, lat rad, ellipsoidal height m].
 * Fixed-point iteration on latitude (contracts by ~e² per step, so a handful
 * of iterations reach double precision); the height formula
 * h = p·cosφ + z·sinφ − a²/N has no division by cosφ, so it is stable at the poles.
 */
export function ecefToGeodetic(x, y, z) {
  const p = Math.hypot(x, y);
  const lon = Math.atan2(y, x);
  let lat = Math.atan2(z, p * (1 - WGS84_E2));
  for (let i = 0; i < 20; i++) {
    const s = Math.sin(lat);
    const n = WGS84_A / Math.sqrt(1 - WGS84_E2 * s * s);
    const next = Math.atan2(z + WGS84_E2 * n * s, p);
    const done = Math.abs(next - lat) < 1e-15;
    lat = next;
    if (done) break;
  }
  const s = Math.sin(lat);
  const n = WGS84_A / Math.sqrt(1 - WGS84_E2 * s * s);
  const h = p * Math.cos(lat) + z * s - (WGS84_A * WGS84_A) / n;
  return [lon, lat, h];
}

/** Geodetic (lon, lat rad, h m) -> ECEF. Used by tests/fixtures and for symmetry. */
export function geodeticToEcef(lon, lat, h) {
  const s = Math.sin(lat);
  const n = WGS84_A / Math.sqrt(1 - WGS84_E2 * s * s);
  return [(n + h) * Math.cos(lat) * Math.cos(lon), (n + h) * Math.cos(lat) * Math.sin(lon), (n * (1 - WGS84_E2) + h) * s];
}

const TWO_PI = 2 * Math.PI;

// A region whose west > east crosses the antimeridian: unwrap east by 2π so
// every longitude interval is [west, east] with west <= east.
const unwrapEast = (west, east) => (east < west ? east + TWO_PI : east);

/** Is longitude `lon` inside [west, east] (antimeridian-aware)? */
export function lonInside(lon, west, east, tol) {
  const e = unwrapEast(west, east);
  return [-TWO_PI, 0, TWO_PI].some((k) => lon + k >= west - tol && lon + k <= e + tol);
}

/** Is geodetic point (lon, lat, h) inside region [w, s, e, n, minH, maxH]? */
export function pointInRegion([lon, lat, h], region, tolRad, tolM) {
  const [w, s, e, n, minH, maxH] = region;
  return lonInside(lon, w, e, tolRad) && lat >= s - tolRad && lat <= n + tolRad && h >= minH - tolM && h <= maxH + tolM;
}

/** Returns a list of human-readable violations of `inner` region ⊆ `outer` region (empty when inside). */
export function regionInRegion(inner, outer, tolRad, tolM) {
  const [iw, is, ie, in_, iminH, imaxH] = inner;
  const [ow, os, oe, on, ominH, omaxH] = outer;
  const problems = [];
  const ie2 = unwrapEast(iw, ie);
  const oe2 = unwrapEast(ow, oe);
  // An outer region around the whole circle holds any longitude interval, across the
  // antimeridian too.
  const lonOk = oe2 - ow >= TWO_PI - tolRad ||
    [-TWO_PI, 0, TWO_PI].some((k) => iw + k >= ow - tolRad && ie2 + k <= oe2 + tolRad);
  if (!lonOk) problems.push(`longitude [${iw}, ${ie}] not within [${ow}, ${oe}]`);
  if (is < os - tolRad) problems.push(`south ${is} < ${os}`);
  if (in_ > on + tolRad) problems.push(`north ${in_} > ${on}`);
  if (iminH < ominH - tolM) problems.push(`minimum height ${iminH} < ${ominH}`);
  if (imaxH > omaxH + tolM) problems.push(`maximum height ${imaxH} > ${omaxH}`);
  return problems;
}

const sub = (a, b) => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const dot = (a, b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a, b) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const len = (a) => Math.sqrt(dot(a, a));

/**
 * Oriented box [c, u, v, w] as center + unit axes + half-lengths. A zero-length
 * half-axis (flat box) gets the normal of the other two as its direction so the
 * box still constrains that direction (to ±tolerance). Returns null if two or
 * more axes are degenerate. The slab test below is exact for orthogonal axes,
 * which is what 3D Tiles boxes are in practice.
 */
function boxFrame(box) {
  const c = box.slice(0, 3);
  const axes = [box.slice(3, 6), box.slice(6, 9), box.slice(9, 12)];
  const half = axes.map(len);
  const dirs = axes.map((a, i) => (half[i] > 0 ? a.map((x) => x / half[i]) : null));
  for (let i = 0; i < 3; i++) {
    if (dirs[i]) continue;
    const n = cross(axes[(i + 1) % 3], axes[(i + 2) % 3]);
    const l = len(n);
    if (l === 0) return null;
    dirs[i] = n.map((x) => x / l);
  }
  return { c, dirs, half };
}

/** Distance by which point p sticks out of the box (0 or negative when inside). */
export function boxExcess(box, p, radius = 0) {
  const f = boxFrame(box);
  if (!f) return NaN;
  const d = sub(p, f.c);
  return Math.max(...f.dirs.map((dir, i) => Math.abs(dot(d, dir)) + radius - f.half[i]));
}

/** Distance by which point p (or a sphere of `radius` around it) sticks out of sphere [cx, cy, cz, r]. */
export function sphereExcess(sphere, p, radius = 0) {
  return len(sub(p, sphere.slice(0, 3))) + radius - sphere[3];
}

/** The 8 corners of an oriented box. */
export function boxCorners(box) {
  const c = box.slice(0, 3);
  const corners = [];
  for (const a of [-1, 1]) for (const b of [-1, 1]) for (const d of [-1, 1]) {
    corners.push([0, 1, 2].map((k) => c[k] + a * box[3 + k] + b * box[6 + k] + d * box[9 + k]));
  }
  return corners;
}
