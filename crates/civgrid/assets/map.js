// civgrid's map: grid polygons drawn as SVG from /api/v1/grids.geojson (GCJ-02), no base-map
// tiles and no outside calls. Used by the map page (/), the report forms and the command centre.
"use strict";
(function () {
  const NS = "http://www.w3.org/2000/svg";

  function rings(geom) { return geom.type === "Polygon" ? [geom.coordinates] : geom.coordinates; }

  // Draws every grid into `svg`. Options: load(url) → the parsed GeoJSON (else fetch);
  // classOf(feature) → extra CSS class of its path; onPick(lng, lat) when the map is clicked
  // (GCJ-02); onGrid(code) / onMarker(key) when a grid or a marker is clicked; zoom: {in, out,
  // reset} labels to add zoom buttons (the wheel zooms and dragging pans in any case).
  // Resolves to the map object.
  async function draw(svg, opts) {
    opts = opts || {};
    // `load` (the pages' API helper) turns a failure into a message in the reader's language.
    let fc;
    if (opts.load) {
      fc = await opts.load("/api/v1/grids.geojson");
    } else {
      const r = await fetch("/api/v1/grids.geojson");
      if (!r.ok) throw new Error("/api/v1/grids.geojson: " + r.status);
      fc = await r.json();
    }
    let x0 = 180, x1 = -180, y0 = 90, y1 = -90;
    for (const f of fc.features) for (const poly of rings(f.geometry)) for (const [x, y] of poly[0]) {
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    }
    const lat0 = (y0 + y1) / 2 * Math.PI / 180;
    const k = 1000 / (x1 - x0);
    const project = (lng, lat) => [(lng - x0) * k, (y1 - lat) * k / Math.cos(lat0)];
    const unproject = (x, y) => [x / k + x0, y1 - y * Math.cos(lat0) / k];
    const [w, h] = project(x1, y0);
    const full = { x: 0, y: 0, w, h };
    let vb = { ...full };
    // The district's own base map, when configured (`data-tiles` on the map: an XYZ URL with
    // {z}, {x}, {y}; Web Mercator tiles in GCJ-02, as the grids are). Tiles are placed by
    // their corners under the grids and redrawn for the view; without it nothing is fetched.
    const tiles = document.createElementNS(NS, "g");
    tiles.setAttribute("class", "tiles");
    const tileUrl = svg.dataset.tiles || "";
    let tileTimer = null;
    const drawTiles = () => {
      if (!tileUrl) return;
      const [wl, nt] = unproject(vb.x, vb.y), [el, sb] = unproject(vb.x + vb.w, vb.y + vb.h);
      const px = svg.clientWidth || 1000;
      const z = Math.max(0, Math.min(19, Math.round(Math.log2(360 / Math.max(1e-9, el - wl) * px / 256))));
      const n = 2 ** z;
      const tx = lng => Math.floor((lng + 180) / 360 * n);
      const ty = lat => { const r = lat * Math.PI / 180; return Math.floor((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * n); };
      const lngOf = x => x / n * 360 - 180;
      const latOf = y => Math.atan(Math.sinh(Math.PI * (1 - 2 * y / n))) * 180 / Math.PI;
      const wanted = new Set();
      for (let x = tx(wl); x <= tx(el); x++) for (let y = ty(nt); y <= ty(sb); y++) {
        if (wanted.size > 400) break;
        const href = tileUrl.replace("{z}", z).replace("{x}", x).replace("{y}", y);
        wanted.add(href);
        if (tiles.querySelector(`image[href="${CSS.escape(href)}"]`)) continue;
        const [ax, ay] = project(lngOf(x), latOf(y)), [bx, by] = project(lngOf(x + 1), latOf(y + 1));
        const img = document.createElementNS(NS, "image");
        img.setAttribute("href", href);
        img.setAttribute("class", "tile");
        img.setAttribute("x", ax.toFixed(3)); img.setAttribute("y", ay.toFixed(3));
        img.setAttribute("width", (bx - ax).toFixed(3)); img.setAttribute("height", (by - ay).toFixed(3));
        img.setAttribute("preserveAspectRatio", "none");
        img.dataset.z = z; img.dataset.x = x; img.dataset.y = y;
        tiles.appendChild(img);
      }
      tiles.querySelectorAll("image").forEach(i => { if (!wanted.has(i.getAttribute("href"))) i.remove(); });
    };
    // Screen pixels per map unit for a view, and where the view's corner sits in the element
    // (the picture is fitted into the element, centred: preserveAspectRatio's default).
    const fit = v => {
      const W = svg.clientWidth || 1, H = svg.clientHeight || W * v.h / v.w;
      const s = Math.min(W / v.w, H / v.h);
      return { s, ox: (W - v.w * s) / 2, oy: (H - v.h * s) / 2 };
    };
    // The view drawn (the viewBox), and the timer that draws the view asked for.
    let shown = null, settle = null, moved = { x: 0, y: 0 };
    // Wheel and drag move the picture already drawn at once (a CSS transform of the map, its
    // own layer: nothing is drawn again), and the map is drawn for the new view when the hand
    // rests — thousands of markers need not be redrawn for every step of a gesture.
    const preview = v => {
      if (!shown) { setView(v); return; }
      vb = v;
      const c = fit(shown), n = fit(v);
      const k = n.s / c.s;
      const tx = (shown.x - v.x) * n.s + n.ox - c.ox * k, ty = (shown.y - v.y) * n.s + n.oy - c.oy * k;
      svg.style.transformOrigin = "0 0";
      svg.style.transform = `translate(${tx.toFixed(1)}px, ${ty.toFixed(1)}px) scale(${k.toFixed(5)})`;
      moved = { x: tx, y: ty };
      clearTimeout(settle);
      settle = setTimeout(() => setView(vb), 180);
    };
    const setView = v => {
      vb = v;
      shown = v;
      clearTimeout(settle);
      svg.style.transform = "";
      moved = { x: 0, y: 0 };
      if (tileUrl) { clearTimeout(tileTimer); tileTimer = setTimeout(drawTiles, 120); }
      svg.setAttribute("viewBox", `${v.x.toFixed(2)} ${v.y.toFixed(2)} ${v.w.toFixed(2)} ${v.h.toFixed(2)}`);
      // Markers keep their size on screen whatever the zoom: one CSS variable their radius
      // follows (app.css), not an attribute per marker — the command map draws thousands.
      const r = (full.w / 160) * (v.w / full.w);
      svg.style.setProperty("--marker-r", r.toFixed(3) + "px");
    };
    setView(full);
    const grids = document.createElementNS(NS, "g");
    grids.setAttribute("class", "grids");
    const markers = document.createElementNS(NS, "g");
    markers.setAttribute("class", "markers");
    const byKey = new Map();
    const subdistricts = [...new Set(fc.features.map(f => f.properties.subdistrict_code))].sort();
    const paths = new Map();
    for (const f of fc.features) {
      let d = "";
      for (const poly of rings(f.geometry)) for (const ring of poly) {
        d += ring.map(([x, y], i) => (i ? "L" : "M") + project(x, y).map(v => v.toFixed(2)).join(",")).join("") + "Z";
      }
      const p = document.createElementNS(NS, "path");
      p.setAttribute("d", d);
      let cls = "sd" + subdistricts.indexOf(f.properties.subdistrict_code) % 4;
      if (opts.classOf) cls += " " + (opts.classOf(f) || "");
      p.setAttribute("class", cls.trim());
      p.dataset.grid = f.properties.code;
      const title = document.createElementNS(NS, "title");
      title.textContent = `${f.properties.name} ${f.properties.code}`;
      p.appendChild(title);
      grids.appendChild(p);
      paths.set(f.properties.code, p);
    }
    // Area boundaries over the grids. Each grid edge is cut in four; a point just beside the
    // middle of each piece is looked up among the grids: none → the district's outline, a grid
    // of another subdistrict or community → that boundary. (Imported grids need not share
    // their vertices, so edges cannot simply be matched end to end.)
    const bounds = document.createElementNS(NS, "g");
    bounds.setAttribute("class", "bounds");
    if (opts.boundaries) {
      const N = 64, cw = (x1 - x0) / N || 1, ch = (y1 - y0) / N || 1;
      const cells = new Map();
      const boxes = fc.features.map(f => {
        let bx0 = 180, bx1 = -180, by0 = 90, by1 = -90;
        for (const poly of rings(f.geometry)) for (const [x, y] of poly[0]) {
          bx0 = Math.min(bx0, x); bx1 = Math.max(bx1, x); by0 = Math.min(by0, y); by1 = Math.max(by1, y);
        }
        return [bx0, by0, bx1, by1];
      });
      const cell = (x, y) => [Math.min(N - 1, Math.max(0, Math.floor((x - x0) / cw))), Math.min(N - 1, Math.max(0, Math.floor((y - y0) / ch)))];
      boxes.forEach((b, i) => {
        const [cx0, cy0] = cell(b[0], b[1]), [cx1, cy1] = cell(b[2], b[3]);
        for (let cx = cx0; cx <= cx1; cx++) for (let cy = cy0; cy <= cy1; cy++) {
          const k = cx * N + cy;
          if (!cells.has(k)) cells.set(k, []);
          cells.get(k).push(i);
        }
      });
      const inside = (f, x, y) => {
        let hit = false;
        for (const poly of rings(f.geometry)) for (const ring of poly) {
          for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
            const [xi, yi] = ring[i], [xj, yj] = ring[j];
            if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) hit = !hit;
          }
        }
        return hit;
      };
      const gridAt = (x, y, not) => {
        const [cx, cy] = cell(x, y);
        for (const i of cells.get(cx * N + cy) || []) {
          const b = boxes[i];
          if (i !== not && x >= b[0] && x <= b[2] && y >= b[1] && y <= b[3] && inside(fc.features[i], x, y)) return i;
        }
        return -1;
      };
      const d = { community: "", subdistrict: "", district: "" };
      const EPS = 2e-6;
      fc.features.forEach((f, fi) => {
        const code = f.properties.code;
        for (const poly of rings(f.geometry)) {
          const ring = poly[0];
          for (let i = 1; i < ring.length; i++) {
            const [ax, ay] = ring[i - 1], [bx, by] = ring[i];
            const len = Math.hypot(bx - ax, by - ay);
            if (!len) continue;
            const nx = -(by - ay) / len * EPS, ny = (bx - ax) / len * EPS;
            for (let k = 0; k < 4; k++) {
              const sx = ax + (bx - ax) * k / 4, sy = ay + (by - ay) * k / 4;
              const ex = ax + (bx - ax) * (k + 1) / 4, ey = ay + (by - ay) * (k + 1) / 4;
              const mx = (sx + ex) / 2, my = (sy + ey) / 2;
              // The side of the edge that is not this grid.
              const side = inside(f, mx + nx, my + ny) ? -1 : 1;
              const other = gridAt(mx + side * nx, my + side * ny, fi);
              let level = null;
              if (other < 0) level = "district";
              else {
                const oc = fc.features[other].properties.code;
                if (oc.slice(0, 9) !== code.slice(0, 9)) level = "subdistrict";
                else if (oc.slice(0, 12) !== code.slice(0, 12)) level = "community";
              }
              if (!level) continue;
              const [px, py] = project(sx, sy), [qx, qy] = project(ex, ey);
              d[level] += `M${px.toFixed(2)},${py.toFixed(2)}L${qx.toFixed(2)},${qy.toFixed(2)}`;
            }
          }
        }
      });
      for (const l of ["community", "subdistrict", "district"]) {
        if (!d[l]) continue;
        const p = document.createElementNS(NS, "path");
        p.setAttribute("d", d[l]);
        p.setAttribute("class", "bound b-" + l);
        p.dataset.bound = l;
        bounds.appendChild(p);
      }
    }
    svg.replaceChildren(tiles, grids, bounds, markers);
    performance.mark("civgrid:grids");
    // A frame that clips the picture while a gesture moves it ahead of the drawing.
    let clip = svg.parentElement;
    if (!clip.classList.contains("map-clip")) {
      clip = document.createElement("div");
      clip.className = "map-clip";
      svg.before(clip);
      clip.append(svg);
    }
    svg.classList.toggle("tiled", !!tileUrl);
    drawTiles();
    const toLngLat = ev => {
      const p = local(ev);
      return unproject(p.x, p.y);
    };
    // Zoom about a point of the view (factor < 1 zooms in), within sensible bounds.
    const zoom = (factor, cx, cy, show) => {
      const nw = Math.min(full.w, Math.max(full.w / 64, vb.w * factor));
      const k = nw / vb.w;
      if (cx === undefined) { cx = vb.x + vb.w / 2; cy = vb.y + vb.h / 2; }
      (show || setView)({ x: cx - (cx - vb.x) * k, y: cy - (cy - vb.y) * k, w: nw, h: vb.h * k });
    };
    // The map point under the pointer, in the view asked for (the picture may be moved ahead
    // of the drawing).
    const local = ev => {
      const r = svg.getBoundingClientRect(), n = fit(vb);
      const left = r.left - moved.x + svg.clientLeft, top = r.top - moved.y + svg.clientTop;
      return { x: vb.x + (ev.clientX - left - n.ox) / n.s, y: vb.y + (ev.clientY - top - n.oy) / n.s };
    };
    svg.addEventListener("wheel", ev => {
      ev.preventDefault();
      const p = local(ev);
      zoom(ev.deltaY < 0 ? 0.8 : 1.25, p.x, p.y, preview);
    }, { passive: false });
    let drag = null, dragged = false;
    svg.addEventListener("pointerdown", ev => { drag = { x: ev.clientX, y: ev.clientY, vb: { ...vb } }; dragged = false; });
    svg.addEventListener("pointermove", ev => {
      if (!drag) return;
      const dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
      if (!dragged && Math.hypot(dx, dy) < 5) return;
      dragged = true;
      const scale = 1 / fit(drag.vb).s;
      preview({ ...drag.vb, x: drag.vb.x - dx * scale, y: drag.vb.y - dy * scale });
    });
    window.addEventListener("pointerup", () => { drag = null; });
    svg.addEventListener("click", ev => {
      if (dragged) { dragged = false; return; }
      const marker = ev.target.closest("circle[data-key]");
      if (marker && opts.onMarker) { opts.onMarker(marker.dataset.key); return; }
      const grid = ev.target.closest("path[data-grid]");
      if (grid && opts.onGrid) opts.onGrid(grid.dataset.grid);
      if (opts.onPick) { const [lng, lat] = toLngLat(ev); opts.onPick(lng, lat); }
    });
    if (opts.zoom) {
      const bar = document.createElement("div");
      bar.className = "map-tools";
      for (const [label, act] of [[opts.zoom.in, () => zoom(0.5)], [opts.zoom.out, () => zoom(2)], [opts.zoom.reset, () => setView(full)]]) {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = label;
        b.addEventListener("click", act);
        bar.append(b);
      }
      clip.before(bar);
    }
    return {
      count: fc.features.length,
      paths,
      // Shows a grid with `margin` times its size around it (its neighbourhood).
      zoomTo(code, margin) {
        const p = paths.get(code);
        if (!p) return;
        const b = p.getBBox();
        const side = Math.max(b.width, b.height * full.w / full.h) * (margin || 6);
        const hh = side * full.h / full.w;
        setView({ x: b.x + b.width / 2 - side / 2, y: b.y + b.height / 2 - hh / 2, w: side, h: hh });
      },
      highlight(code) { paths.forEach(p => p.classList.toggle("hit", p.dataset.grid === code)); },
      // Colours grids by a number each (heat 1–4); an empty map clears it.
      heat(counts) {
        paths.forEach((p, code) => {
          const n = counts.get(code) || 0;
          const level = n === 0 ? 0 : n === 1 ? 1 : n === 2 ? 2 : n <= 4 ? 3 : 4;
          for (let i = 1; i <= 4; i++) p.classList.toggle("heat" + i, level === i);
          if (n) p.dataset.heat = n; else delete p.dataset.heat;
        });
        svg.classList.toggle("heat-on", counts.size > 0);
      },
      // A round marker at a GCJ-02 point, or the existing one for `key` moved and re-classed.
      marker(key, lng, lat, cls, label) {
        let m = byKey.get(String(key));
        if (!m) {
          m = document.createElementNS(NS, "circle");
          m.dataset.key = key;
          m.appendChild(document.createElementNS(NS, "title"));
          markers.appendChild(m);
          byKey.set(String(key), m);
        }
        const [x, y] = project(lng, lat);
        const r = (full.w / 160) * (vb.w / full.w);
        m.setAttribute("cx", x.toFixed(2)); m.setAttribute("cy", y.toFixed(2)); m.setAttribute("r", r.toFixed(3));
        m.setAttribute("class", "marker " + cls);
        m.firstChild.textContent = label;
        return m;
      },
    };
  }

  window.CivMap = { draw };
})();
