// civgrid's map: grid polygons drawn as SVG from /api/v1/grids.geojson (GCJ-02), no base-map
// tiles and no outside calls. Used by the map page (/), the report forms and the command centre.
"use strict";
(function () {
  const NS = "http://www.w3.org/2000/svg";

  function rings(geom) { return geom.type === "Polygon" ? [geom.coordinates] : geom.coordinates; }

  // Draws every grid into `svg`. Options: classOf(feature) → extra CSS class of its path;
  // onPick(lng, lat) when the map is clicked (GCJ-02). Resolves to the map object.
  async function draw(svg, opts) {
    opts = opts || {};
    const r = await fetch("/api/v1/grids.geojson");
    if (!r.ok) throw new Error("grids " + r.status);
    const fc = await r.json();
    let x0 = 180, x1 = -180, y0 = 90, y1 = -90;
    for (const f of fc.features) for (const poly of rings(f.geometry)) for (const [x, y] of poly[0]) {
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    }
    const lat0 = (y0 + y1) / 2 * Math.PI / 180;
    const k = 1000 / (x1 - x0);
    const project = (lng, lat) => [(lng - x0) * k, (y1 - lat) * k / Math.cos(lat0)];
    const unproject = (x, y) => [x / k + x0, y1 - y * Math.cos(lat0) / k];
    const [w, h] = project(x1, y0);
    svg.setAttribute("viewBox", `0 0 ${w.toFixed(1)} ${h.toFixed(1)}`);
    const grids = document.createElementNS(NS, "g");
    grids.setAttribute("class", "grids");
    const markers = document.createElementNS(NS, "g");
    markers.setAttribute("class", "markers");
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
    svg.replaceChildren(grids, markers);
    const toLngLat = ev => {
      const pt = svg.createSVGPoint(); pt.x = ev.clientX; pt.y = ev.clientY;
      const local = pt.matrixTransform(svg.getScreenCTM().inverse());
      return unproject(local.x, local.y);
    };
    if (opts.onPick) svg.addEventListener("click", ev => { const [lng, lat] = toLngLat(ev); opts.onPick(lng, lat); });
    const size = w / 160;
    return {
      count: fc.features.length,
      paths,
      highlight(code) { paths.forEach(p => p.classList.toggle("hit", p.dataset.grid === code)); },
      // A round marker at a GCJ-02 point, or the existing one for `key` moved and re-classed.
      marker(key, lng, lat, cls, label) {
        let m = markers.querySelector(`[data-key="${CSS.escape(String(key))}"]`);
        if (!m) {
          m = document.createElementNS(NS, "circle");
          m.dataset.key = key;
          m.appendChild(document.createElementNS(NS, "title"));
          markers.appendChild(m);
        }
        const [x, y] = project(lng, lat);
        m.setAttribute("cx", x.toFixed(2)); m.setAttribute("cy", y.toFixed(2)); m.setAttribute("r", size.toFixed(2));
        m.setAttribute("class", "marker " + cls);
        m.firstChild.textContent = label;
        return m;
      },
    };
  }

  window.CivMap = { draw };
})();
