// citytiler viewer: CesiumJS with no Ion token, no imagery and no online services.
// Loads ./tileset/<name> (default tileset.json; ?tileset=NAME for another file in the
// served directory), flies to it, lights it from the camera, and shows the properties
// of the clicked building or city asset (an instanced symbol) in the side panel.
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
//                       { id, featureId, className, propertyTable, propertyTableName, instanced,
//                         properties: {name: {type, value}}, position: {lon, lat, height} | null }
//                       className: the EXT_structural_metadata class of the property table hit
//                       ("building", "asset", ...); propertyTable: its index in the GLB
//                       (CesiumJS uses one property table per tile content: Model.featureTableId)
//   worldToWindow(x, y, z)  ECEF point -> canvas CSS pixel {x, y} (null when behind the camera)
//   lookAt(x, y, z, range, headingDeg, pitchDeg)
//                       puts the camera `range` metres from an ECEF point, looking at it
//   select(x, y)        same as a click: picks, highlights, fills the side panel
//   drawnPixels(threshold, spotStep)
//                       renders with and without the tileset and counts the pixels that differ
//                       (with spotStep > 0, also `spots`: differing pixels on that grid)
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
    return { id, featureId: feature.featureId, ...tableInfo(feature), properties, position };
  }

  // Which property table (and class) the picked feature's attributes come from.
  // Cesium3DTileFeature (Model3DTileContent): the content's feature table is the model's
  // featureTableId one; ModelFeature (a Model outside a tileset): its own feature table.
  function tableInfo(feature) {
    const out = { className: null, propertyTable: null, propertyTableName: null, instanced: false };
    try {
      let table = null;
      let model = null;
      if (feature instanceof Cesium.Cesium3DTileFeature) {
        table = feature.content ? feature.content.batchTable : null;
        model = feature.content && feature.content._model ? feature.content._model : null;
      } else if (feature instanceof Cesium.ModelFeature) {
        table = feature._featureTable || null;
        model = feature.primitive || null;
      }
      const pt = table && table._propertyTable ? table._propertyTable : null;
      if (pt) {
        out.className = pt.class ? pt.class.id : null;
        out.propertyTableName = pt.name !== undefined ? pt.name : null;
      }
      if (model) {
        out.propertyTable = model.featureTableId !== undefined ? model.featureTableId : null;
        const nodes = model._sceneGraph && model._sceneGraph._components ? model._sceneGraph._components.nodes : [];
        out.instanced = nodes.some((n) => !!n.instances);
      }
    } catch (e) {
      /* internals moved: leave the fields null */
    }
    return out;
  }

  function pickFeature(x, y) {
    const picked = scene.pick(new Cesium.Cartesian2(x, y));
    if (picked instanceof Cesium.Cesium3DTileFeature) return picked;
    if (Cesium.ModelFeature && picked instanceof Cesium.ModelFeature) return picked;
    return null;
  }

  function worldToWindow(x, y, z) {
    const w = Cesium.SceneTransforms.worldToWindowCoordinates(scene, new Cesium.Cartesian3(x, y, z));
    return w ? { x: w.x, y: w.y } : null;
  }

  function lookAt(x, y, z, range, headingDeg = 20, pitchDeg = -30) {
    const target = new Cesium.Cartesian3(x, y, z);
    scene.camera.lookAt(target, new Cesium.HeadingPitchRange(Cesium.Math.toRadians(headingDeg),
      Cesium.Math.toRadians(pitchDeg), range));
    // Free the camera again (lookAt locks it to the target's frame).
    scene.camera.lookAtTransform(Cesium.Matrix4.IDENTITY);
    scene.requestRender();
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
    if (info.className === 'asset') {
      const cat = info.properties.type_en || info.properties.category;
      const what = cat && cat.value !== null ? String(cat.value) : 'asset';
      titleEl.textContent = info.id !== null ? `Asset ${info.id} (${what})` : `Asset (no id, ${what})`;
    } else {
      titleEl.textContent = info.id !== null ? `Building ${info.id}` : 'Building (no id)';
    }
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

  // Renders with and without the tileset and counts the pixels that differ. With
  // spotStep > 0 also returns `spots`: the differing pixels on a spotStep grid, in CSS
  // pixels (where something of the tileset is drawn: candidates for picking).
  function drawnPixels(threshold = 24, spotStep = 0) {
    if (!tileset) throw new Error('no tileset');
    const visible = tileset.show;
    tileset.show = true;
    const withTiles = grabPixels();
    tileset.show = false;
    const without = grabPixels();
    tileset.show = visible;
    viewer.render();
    const width = scene.canvas.width;
    const height = scene.canvas.height;
    const ratio = scene.canvas.clientWidth > 0 ? scene.canvas.clientWidth / width : 1;
    let differing = 0;
    const spots = [];
    for (let i = 0; i < withTiles.length; i += 4) {
      const d = Math.max(
        Math.abs(withTiles[i] - without[i]),
        Math.abs(withTiles[i + 1] - without[i + 1]),
        Math.abs(withTiles[i + 2] - without[i + 2]),
      );
      if (d > threshold) {
        differing++;
        const p = i / 4;
        const x = p % width;
        const y = Math.floor(p / width);
        if (spotStep > 0 && x % spotStep === 0 && y % spotStep === 0) spots.push([x * ratio, y * ratio]);
      }
    }
    const out = { differing, total: withTiles.length / 4, width, height };
    if (spotStep > 0) out.spots = spots;
    return out;
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
    setStatus(`${tilesetName} — click a building or an asset to see its attributes`);
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
    worldToWindow,
    lookAt,
    drawnPixels,
    canvasSize: () => ({ width: scene.canvas.clientWidth, height: scene.canvas.clientHeight }),
  };
})();
