#!/usr/bin/env node
// Tiny static server for the citytiler viewer (node's http module, no framework).
//
//   node tools/viewer/serve.mjs TILESET [--port N]
//
// TILESET is a tileset directory (holding tileset.json) or a tileset .json file.
// Binds to 127.0.0.1 only, on port N (default: a free port), and prints the URL to
// open. It serves three roots and nothing else:
//   /            the viewer page (index.html, viewer.js, viewer.css)
//   /cesium/     node_modules/cesium/Build/Cesium (npm ci --prefix tools/viewer)
//   /tileset/    the tileset directory
// Only GET and HEAD. Paths are decoded, normalised and resolved (symlinks included)
// and must stay inside their root; anything else is 403/404.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.glb': 'model/gltf-binary',
  '.gltf': 'model/gltf+json',
  '.b3dm': 'application/octet-stream',
  '.i3dm': 'application/octet-stream',
  '.pnts': 'application/octet-stream',
  '.cmpt': 'application/octet-stream',
  '.subtree': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ktx2': 'image/ktx2',
  '.svg': 'image/svg+xml',
  '.xml': 'application/xml',
  '.txt': 'text/plain; charset=utf-8',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
};

function usage(message) {
  if (message) console.error(`serve.mjs: ${message}`);
  console.error('usage: node tools/viewer/serve.mjs TILESET_DIR_OR_JSON [--port N]');
  process.exit(2);
}

function parseArgs(argv) {
  let tileset = null;
  let port = 0;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') usage();
    else if (a === '--port' || a.startsWith('--port=')) {
      const v = a === '--port' ? argv[++i] : a.slice('--port='.length);
      if (v === undefined || !/^\d+$/.test(v) || Number(v) > 65535) usage(`bad port "${v ?? ''}"`);
      port = Number(v);
    } else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else if (tileset === null) tileset = a;
    else usage(`unexpected argument ${a}`);
  }
  if (tileset === null) usage('no tileset given');
  return { tileset, port };
}

const args = parseArgs(process.argv.slice(2));

let tilesetDir;
let tilesetFile = 'tileset.json';
try {
  const st = fs.statSync(args.tileset);
  if (st.isDirectory()) tilesetDir = args.tileset;
  else {
    tilesetDir = path.dirname(args.tileset);
    tilesetFile = path.basename(args.tileset);
  }
  tilesetDir = fs.realpathSync(tilesetDir);
} catch (e) {
  console.error(`serve.mjs: cannot open tileset ${args.tileset}: ${e.message}`);
  process.exit(2);
}
if (!fs.existsSync(path.join(tilesetDir, tilesetFile))) {
  console.error(`serve.mjs: ${path.join(tilesetDir, tilesetFile)} does not exist`);
  process.exit(2);
}
const cesiumDir = path.join(here, 'node_modules', 'cesium', 'Build', 'Cesium');
if (!fs.existsSync(path.join(cesiumDir, 'Cesium.js'))) {
  console.error(`serve.mjs: ${cesiumDir}/Cesium.js missing: run tools/install-deps.sh (or npm ci --prefix tools/viewer)`);
  process.exit(2);
}

// URL prefix -> real directory. The viewer root only exposes its own page files.
const roots = [
  { prefix: '/cesium/', dir: fs.realpathSync(cesiumDir) },
  { prefix: '/tileset/', dir: tilesetDir },
];
const VIEWER_FILES = new Set(['index.html', 'viewer.js', 'viewer.css']);

/** Real path of the file for a URL path, or null (404) / 'forbidden' (403). */
function resolveRequest(urlPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return 'forbidden';
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return 'forbidden';
  if (decoded === '/') decoded = '/index.html';
  for (const { prefix, dir } of roots) {
    if (!decoded.startsWith(prefix)) continue;
    const rel = decoded.slice(prefix.length);
    // Refuse any '..' segment outright, then double-check the resolved real path.
    if (rel.split('/').some((s) => s === '..')) return 'forbidden';
    const candidate = path.resolve(dir, '.' + path.posix.sep + rel);
    if (candidate !== dir && !candidate.startsWith(dir + path.sep)) return 'forbidden';
    let real;
    try {
      real = fs.realpathSync(candidate);
    } catch {
      return null;
    }
    if (real !== dir && !real.startsWith(dir + path.sep)) return 'forbidden';
    return real;
  }
  const name = decoded.slice(1);
  if (VIEWER_FILES.has(name)) return path.join(here, name);
  return null;
}

function send(res, status, text) {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

const server = http.createServer((req, res) => {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return send(res, 405, 'method not allowed\n');
  }
  let urlPath;
  try {
    urlPath = new URL(req.url, 'http://127.0.0.1').pathname;
  } catch {
    return send(res, 400, 'bad request\n');
  }
  const file = resolveRequest(urlPath);
  if (file === 'forbidden') return send(res, 403, 'forbidden\n');
  if (file === null) return send(res, 404, 'not found\n');
  fs.stat(file, (err, st) => {
    if (err || !st.isFile()) return send(res, 404, 'not found\n');
    const type = MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
    res.writeHead(200, {
      'Content-Type': type,
      'Content-Length': st.size,
      // Tilesets get rewritten in place by reruns: never let the browser keep a stale copy.
      'Cache-Control': file.startsWith(tilesetDir + path.sep) ? 'no-cache' : 'max-age=3600',
      'X-Content-Type-Options': 'nosniff',
    });
    if (req.method === 'HEAD') return res.end();
    const stream = fs.createReadStream(file);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  });
});

server.on('error', (e) => {
  console.error(`serve.mjs: cannot listen on 127.0.0.1:${args.port}: ${e.message}`);
  process.exit(1);
});
server.listen(args.port, '127.0.0.1', () => {
  const { port } = server.address();
  const query = tilesetFile === 'tileset.json' ? '' : `?tileset=${encodeURIComponent(tilesetFile)}`;
  console.log(`citytiler viewer: serving ${path.join(tilesetDir, tilesetFile)}`);
  console.log(`open http://127.0.0.1:${port}/${query}`);
  console.log('(Ctrl-C to stop)');
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    server.close();
    process.exit(0);
  });
}
