// citytiler viewer: CesiumJS with no Ion token, no imagery and no online services.
// Loads ./tileset/<name> (default tileset.json; ?tileset=NAME for another file in the
// served directory), flies to it, lights it from the camera, and shows the properties
// of the clicked building in the side panel.
//
// URL parameters: tileset=NAME  duration=SECONDS (camera flight, default 1.5)
//                 globe=0 (hide the ellipsoid)
//
// Test API (used by browser-test.mjs), all on window.citytiler:
//   ready               Promise, resolves once the tileset is loaded and the camera arrived
//   tilesLoaded()       true when every tile needed for the current view is loaded
//   stopRendering()     stops the continuous render loop (render() draws one frame)
//   render()            renders one frame now
//   pickAt(x, y)        picks at canvas CSS pixel (x, y): null or
//                       { id, properties: {name: {type, value}}, position: {lon, lat, height} | null }
//   select(x, y)        same as a click: picks, highlights, fills the side panel
//   drawnPixels()       renders with and without the tileset and counts the pixels that differ
//   canvasSize()        { width, height } in CSS pixels
//   errors              messages of tile load / render errors seen so far
(function () {
  'use strict';
  const params = new URLSearchParams(window.location.search);
  const tilesetName = params.get('tileset') || 'tileset.json';
  const duration = params.has('duration') ? Number(params.get('duration')) : 1.5;
  const statusEl = document.getElementById('status');
  const titleEl = document.getElementById('featureTitle');
  const tableBody = document.querySelector('#properties tbody');
  const errors = [];

  function setStatus(text, isError) {
    statusEl.textContent = text;
    statusEl.className = isError ? 'error' : '';
  }

  // No Ion: nothing below may ask for it (no imagery, no Ion terrain, no geocoder).
  Cesium.Ion.defaultAccessToken = '';

  const viewer = new Cesium.Viewer('cesiumContainer', {
    baseLayer: false,
    terrainProvider: new Cesium.EllipsoidTerrainProvider(),
    geocoder: false,
    baseLayerPicker: false,
    homeButton: false,
    sceneModePicker: false,
    navigationHelpButton: false,
    animation: false,
    timeline: false,
    fullscreenButton: false,
    infoBox: false,
    selectionIndicator: false,
    skyBox: false,
    skyAtmosphere: false,
    shadows: false,
  });
  const scene = viewer.scene;
  scene.backgroundColor = Cesium.Color.fromCssColorString('#20242a');
  scene.fog.enabled = false;
  scene.globe.show = params.get('globe') !== '0';
  scene.globe.baseColor = Cesium.Color.fromCssColorString('#3d4650');
  scene.globe.showGroundAtmosphere = false;
  scene.globe.enableLighting = false;
  scene.renderError.addEventListener((_scene, e) => {
    errors.push(`render error: ${e && e.message ? e.message : e}`);
    setStatus(`render error: ${e}`, true);
  });

  // A light that always points where the camera looks: buildings are never black,
  // whatever the time of day.
  // It comes slightly from the upper left of the view, so that roofs and walls facing
  // different ways get different shades, yet every surface the camera sees is lit.
  const light = new Cesium.DirectionalLight({ direction: Cesium.Cartesian3.clone(scene.camera.directionWC) });
  scene.light = light;
  const lightScratch = new Cesium.Cartesian3();
  scene.preRender.addEventListener((s) => {
    const cam = s.camera;
    const d = Cesium.Cartesian3.clone(cam.directionWC, light.direction);
    Cesium.Cartesian3.add(d, Cesium.Cartesian3.multiplyByScalar(cam.rightWC, 0.35, lightScratch), d);
    Cesium.Cartesian3.add(d, Cesium.Cartesian3.multiplyByScalar(cam.upWC, -0.35, lightScratch), d);
    Cesium.Cartesian3.normalize(d, d);
  });

  let tileset = null;
  let flying = false;
  let selected = null;
  const highlight = Cesium.Color.fromCssColorString('#ffd54f');

  function plain(value) {
    if (typeof value === 'bigint') return { type: 'bigint', value: value.toString() };
    if (value === undefined) return { type: 'undefined', value: null };
    if (value === null) return { type: 'null', value: null };
    if (typeof value === 'object') {
      // Vectors, matrices and arrays.
      const v = Array.isArray(value) || ArrayBuffer.isView(value) ? Array.from(value) : JSON.parse(JSON.stringify(value));
      return { type: 'object', value: v };
    }
    return { type: typeof value, value };
  }

  function featureInfo(feature, x, y) {
    const properties = {};
    const ids = feature.getPropertyIds ? feature.getPropertyIds() : [];
    for (const name of ids) properties[name] = plain(feature.getProperty(name));
    let position = null;
    if (scene.pickPositionSupported) {
      const p = scene.pickPosition(new Cesium.Cartesian2(x, y));
      if (p) {
        const c = Cesium.Cartographic.fromCartesian(p);
        if (c) {
          position = {
            lon: Cesium.Math.toDegrees(c.longitude),
            lat: Cesium.Math.toDegrees(c.latitude),
            height: c.height,
          };
        }
      }
    }
    const id = properties.id ? properties.id.value : null;
    return { id, featureId: feature.featureId, properties, position };
  }

  function pickFeature(x, y) {
    const picked = scene.pick(new Cesium.Cartesian2(x, y));
    if (picked instanceof Cesium.Cesium3DTileFeature) return picked;
    return null;
  }

  function pickAt(x, y) {
    const feature = pickFeature(x, y);
    return feature ? featureInfo(feature, x, y) : null;
  }

  function showFeature(info) {
    tableBody.replaceChildren();
    if (!info) {
      titleEl.textContent = 'Click a building';
      return;
    }
    titleEl.textContent = info.id !== null ? `Building ${info.id}` : 'Building (no id)';
    for (const [name, { value }] of Object.entries(info.properties)) {
      const tr = document.createElement('tr');
      const k = document.createElement('td');
      const v = document.createElement('td');
      k.textContent = name;
      v.textContent = value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
      tr.dataset.property = name;
      tr.append(k, v);
      tableBody.append(tr);
    }
  }

  function select(x, y) {
    if (selected) {
      try {
        selected.color = Cesium.Color.WHITE;
      } catch (e) {
        /* its tile may have been unloaded */
      }
      selected = null;
    }
    const feature = pickFeature(x, y);
    const info = feature ? featureInfo(feature, x, y) : null;
    if (feature) {
      selected = feature;
      feature.color = highlight;
    }
    showFeature(info);
    scene.requestRender();
    return info;
  }

  const handler = new Cesium.ScreenSpaceEventHandler(scene.canvas);
  handler.setInputAction((movement) => {
    select(movement.position.x, movement.position.y);
  }, Cesium.ScreenSpaceEventType.LEFT_CLICK);

  function grabPixels() {
    viewer.render();
    // Copy in the same task as the render, before the drawing buffer is discarded.
    const canvas = scene.canvas;
    const copy = document.createElement('canvas');
    copy.width = canvas.width;
    copy.height = canvas.height;
    const ctx = copy.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(canvas, 0, 0);
    return ctx.getImageData(0, 0, copy.width, copy.height).data;
  }

  function drawnPixels(threshold = 24) {
    if (!tileset) throw new Error('no tileset');
    const visible = tileset.show;
    tileset.show = true;
    const withTiles = grabPixels();
    tileset.show = false;
    const without = grabPixels();
    tileset.show = visible;
    viewer.render();
    let differing = 0;
    for (let i = 0; i < withTiles.length; i += 4) {
      const d = Math.max(
        Math.abs(withTiles[i] - without[i]),
        Math.abs(withTiles[i + 1] - without[i + 1]),
        Math.abs(withTiles[i + 2] - without[i + 2]),
      );
      if (d > threshold) differing++;
    }
    return { differing, total: withTiles.length / 4, width: scene.canvas.width, height: scene.canvas.height };
  }

  async function load() {
    const url = `tileset/${tilesetName.split('/').map(encodeURIComponent).join('/')}`;
    tileset = await Cesium.Cesium3DTileset.fromUrl(url);
    tileset.tileFailed.addEventListener((e) => {
      errors.push(`tile failed: ${e.url}: ${e.message}`);
      setStatus(`tile failed: ${e.url}: ${e.message}`, true);
    });
    scene.primitives.add(tileset);
    setStatus(`${tilesetName}: flying to it…`);
    flying = true;
    try {
      await viewer.flyTo(tileset, {
        duration,
        // Close enough that the tileset's bounding sphere about fills the view.
        offset: new Cesium.HeadingPitchRange(Cesium.Math.toRadians(20), Cesium.Math.toRadians(-40),
          tileset.boundingSphere.radius * 2.0),
      });
    } finally {
      flying = false;
    }
    setStatus(`${tilesetName} — click a building to see its attributes`);
    return true;
  }

  const ready = load().catch((e) => {
    const message = `cannot load tileset/${tilesetName}: ${e && e.message ? e.message : e}`;
    errors.push(message);
    setStatus(message, true);
    throw new Error(message);
  });

  window.citytiler = {
    ready,
    viewer,
    get tileset() {
      return tileset;
    },
    errors,
    tilesLoaded: () => !!tileset && !flying && tileset.tilesLoaded,
    stopRendering() {
      viewer.useDefaultRenderLoop = false;
    },
    render() {
      viewer.render();
    },
    pickAt,
    select,
    drawnPixels,
    canvasSize: () => ({ width: scene.canvas.clientWidth, height: scene.canvas.clientHeight }),
  };
})();
