// takt's run report: lanes per thread on the virtual-time axis, marks per syscall,
// blocking spans, message arrows, partition and crash bands, the output, the failure.
// Plain JavaScript, no dependency: the data is the JSON in #run-data.
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("run-data").textContent);
  const LANE = 18, AXIS = 20, MAX_ARROWS = 3000;
  const COLORS = ["#2563eb", "#059669", "#9333ea", "#d97706", "#0891b2", "#db2777", "#64748b", "#94a3b8"];
  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const svg = (tag, attrs) => {
    const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  };
  const fmt = (ns) => (ns / 1e9).toFixed(9) + " s";

  // --- layout: rows are node headers and lanes --------------------------------------
  const rows = []; // {node} or {lane}
  const laneRow = new Array(D.lanes.length);
  let lastNode = -1;
  D.lanes.forEach((l, i) => {
    if (l.node !== lastNode) { rows.push({ node: l.node }); lastNode = l.node; }
    laneRow[i] = rows.length;
    rows.push({ lane: i });
  });
  const labels = $("labels");
  for (const r of rows) {
    if (r.node !== undefined) {
      const n = D.nodes[r.node] || ["?", "?"];
      labels.appendChild(el("div", "node-label", n[0] + "  " + n[1]));
    } else {
      const l = D.lanes[r.lane];
      const d = el("div", "lane-label");
      d.dataset.pid = l.pid; d.dataset.tid = l.tid; d.dataset.node = l.node;
      const prog = l.program.split("/").pop() || "?";
      d.title = l.program + "  pid " + l.pid + " tid " + l.tid;
      d.appendChild(el("span", "", prog + " "));
      d.appendChild(el("span", "ids", l.pid + "/" + l.tid));
      labels.appendChild(d);
    }
  }

  // --- header, failure, legend, output ------------------------------------------------
  const head = $("head");
  head.appendChild(el("h1", "", "takt run, seed " + D.seed));
  head.appendChild(el("div", "meta", "digest " + D.digest + "   " + D.outcome +
    "   " + D.events + " events, " + D.lanes.length + " threads, " + D.arrows.length + " messages"));
  for (const p of D.processes) head.appendChild(el("div", "meta", p));
  for (const w of D.warnings) head.appendChild(el("div", "meta warn", "warning: " + w));
  if (!D.complete) head.appendChild(el("div", "meta warn", "only the last " + D.marks.length +
    " events were kept: run with keep_full_trace (takt run --report does) for the whole run"));
  if (D.failure) {
    const f = $("failure");
    f.hidden = false;
    f.appendChild(el("h2", "", "FAILED at " + fmt(D.failure.time) + ": " + D.failure.reason));
    f.appendChild(el("div", "", "Rerun exactly this run:"));
    const c = el("code", "rerun", D.failure.rerun);
    f.appendChild(c);
    if (D.failure.shrunk) {
      f.appendChild(el("h3", "", "Shrunk to the decisions that cause it"));
      f.appendChild(el("pre", "shrunk", D.failure.shrunk));
    }
    if (D.failure.odds) {
      f.appendChild(el("h3", "", "Bug probability over time"));
      const o = el("div", "odds");
      o.innerHTML = D.failure.odds[0]; // an SVG takt drew (numbers only, no guest text)
      f.appendChild(o);
      f.appendChild(el("pre", "odds-table", D.failure.odds[1]));
    }
  }
  const legend = $("legend");
  D.families.forEach((name, i) => {
    const s = el("span");
    const dot = el("i"); dot.style.background = COLORS[i];
    s.appendChild(dot); s.appendChild(document.createTextNode(name));
    legend.appendChild(s);
  });
  legend.appendChild(el("span", "", "▲ error   ◆ injected fault   ▬ blocked   → message   ⇢ connection"));
  const linesBox = $("lines");
  D.lines.forEach((l, i) => {
    const d = el("div", "line" + (l[2] ? " stderr" : ""));
    d.dataset.t = l[0];
    const lane = D.lanes[l[1]];
    d.appendChild(el("span", "t", fmt(l[0]) + "  " + (lane ? (D.nodes[lane.node] || ["?"])[0] + " " + lane.pid : "")));
    d.appendChild(document.createTextNode(l[3]));
    d.addEventListener("click", () => jumpTo(l[0], l[1]));
    linesBox.appendChild(d);
  });

  // --- snapshots: one panel each (the time axis marks them) ----------------------------
  const table = (cols, rows) => {
    const t = el("table", "snap-table");
    const h = el("tr");
    for (const c of cols) h.appendChild(el("th", "", c));
    t.appendChild(h);
    for (const r of rows) {
      const tr = el("tr");
      for (const c of r) tr.appendChild(el("td", "", c === null || c === undefined ? "" : String(c)));
      t.appendChild(tr);
    }
    return t;
  };
  const nodeName = (i) => (D.nodes[i] || ["node" + i])[0];
  if (D.snapshots.length) $("snapshots").hidden = false;
  D.snapshots.forEach((s, k) => {
    const box = el("details", "snapshot");
    box.id = "snapshot-" + k;
    box.dataset.t = s.time;
    const sum = el("summary", "", "Snapshot " + (k + 1) + " at " + fmt(s.time) + " (asked for " + fmt(s.requested) +
      "; after event " + s.event_index + "): " + s.processes.length + " processes, " + s.sockets.length +
      " sockets, " + s.in_flight.length + " messages in flight");
    sum.addEventListener("click", () => { const span = Math.min(t1 - t0, end / 20 || 1000); setView(s.time - span / 2, s.time + span / 2); });
    box.appendChild(sum);
    box.appendChild(el("div", "meta", "nodes: " + s.nodes.map((n) => n.name + " " + n.addr + (n.up ? " up" : " CRASHED")).join(", ") +
      (s.partitions.length ? "   partitions: " + s.partitions.map((p) => p[0] + " | " + p[1]).join(", ") : "")));
    box.appendChild(el("h3", "", "Processes and threads"));
    box.appendChild(table(["pid", "node", "program", "tid", "state", "waits on", "until"],
      s.processes.flatMap((p) => p.threads.map((t) => [p.pid, p.node, p.program || p.command, t.tid, t.state +
        (t.syscall ? " in " + t.syscall : ""), t.waits_on, t.deadline === null ? "" : fmt(t.deadline)]))));
    box.appendChild(el("h3", "", "Open fds"));
    box.appendChild(table(["pid", "fd", "what"], s.processes.flatMap((p) => p.fds.map((f) => [p.pid, f.fd, f.what]))));
    box.appendChild(el("h3", "", "Sockets"));
    box.appendChild(table(["id", "node", "state", "local", "peer", "unread bytes", "in flight", "sent", "received"],
      s.sockets.map((x) => [x.id, nodeName(x.node), x.state + (x.backlog ? " (" + x.backlog[0] + "/" + x.backlog[1] + " queued)" : ""),
        x.local, x.peer, x.rx_buffered, x.in_flight, x.bytes_sent, x.bytes_received])));
    box.appendChild(el("h3", "", "Messages in flight"));
    box.appendChild(table(["due", "from", "to", "kind", "bytes", "sockets"],
      s.in_flight.map((p) => [fmt(p.at) + (p.held ? " (held)" : ""), nodeName(p.src_node), nodeName(p.dst_node), p.kind, p.bytes,
        (p.from_sock === null ? "?" : p.from_sock) + " → " + (p.to_sock === null ? "?" : p.to_sock)])));
    if (s.pipes.length) {
      box.appendChild(el("h3", "", "Pipes"));
      box.appendChild(table(["pipe", "buffered", "readers", "writers"], s.pipes.map((p) => [p.id, p.buffered, p.readers, p.writers])));
    }
    box.appendChild(el("h3", "", "Timers"));
    box.appendChild(table(["at", "what"], s.timers.map((t) => [fmt(t.at), t.what])));
    $("snapshot-list").appendChild(box);
  });

  // --- the dependency graph ----------------------------------------------------------------
  (function () {
    const G = D.deps, body = $("deps-body");
    if (!G.complete) body.appendChild(el("div", "meta warn", "built from the last events only: run with keep_full_trace for the whole graph"));
    const cmd = {};
    for (const p of G.processes) cmd[p.pid] = p.command;
    body.appendChild(el("h3", "", "Processes"));
    const tree = el("ul", "deps-tree");
    const kids = {};
    for (const p of G.processes) (kids[p.parent === null ? "root" : p.parent] = kids[p.parent === null ? "root" : p.parent] || []).push(p);
    const add = (ul, p, depth) => {
      const li = el("li", "deps-process", "pid " + p.pid + " on " + p.node + ": " + p.command);
      ul.appendChild(li);
      if (depth < 32 && kids[p.pid]) { const sub = el("ul"); li.appendChild(sub); for (const c of kids[p.pid]) add(sub, c, depth + 1); }
    };
    for (const p of G.processes) if (p.parent === null || !cmd[p.parent]) add(tree, p, 0);
    body.appendChild(tree);
    body.appendChild(el("h3", "", "Listening"));
    for (const l of G.listeners) body.appendChild(el("div", "deps-listener", l.addr + "  (pid " + l.pid + " " + (cmd[l.pid] || "") + ", node " + l.node + ", from " + fmt(l.time) + ")"));
    body.appendChild(el("h3", "", "Connections"));
    for (const c of G.connections) {
      body.appendChild(el("div", "deps-connection", fmt(c.time) + "  pid " + c.client_pid + " (" + (c.client_node || "?") + ") " +
        (c.client_addr || "") + " → " + (c.server_addr || "?") + (c.server_pid === null ? "  not accepted" : "  accepted by pid " + c.server_pid + " (" + c.server_node + ")")));
    }
    body.appendChild(el("h3", "", "Files"));
    const byPid = {};
    for (const f of G.files) (byPid[f.pid] = byPid[f.pid] || []).push(f);
    for (const pid in byPid) {
      const d = el("details", "deps-files");
      d.appendChild(el("summary", "", "pid " + pid + " " + (cmd[pid] || "") + ": " + byPid[pid].length + " files"));
      for (const f of byPid[pid]) d.appendChild(el("div", "deps-file", (f.read ? "r" : "-") + (f.write ? "w" : "-") + "  " + f.path + (f.opens > 1 ? "  (" + f.opens + " opens)" : "")));
      body.appendChild(d);
    }
  })();

  // --- per-lane indexes: marks sorted by time ------------------------------------------
  const byLane = D.lanes.map(() => []);
  D.marks.forEach((m, i) => byLane[m[1]].push(i));
  const spansByLane = D.lanes.map(() => []);
  D.spans.forEach((s) => spansByLane[s[0]].push(s));
  const lower = (arr, key, t) => { // first index with key(arr[i]) >= t
    let lo = 0, hi = arr.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (key(arr[mid]) < t) lo = mid + 1; else hi = mid; }
    return lo;
  };
  const markT = (i) => D.marks[i][0];

  // --- view -----------------------------------------------------------------------------
  const plot = $("plot"), canvas = $("timeline"), overlay = $("overlay"), tip = $("tip");
  const ctx = canvas.getContext("2d");
  const end = Math.max(D.end, 1);
  // The first view spans the activity (a run may idle until its completion time).
  const lastMark = D.marks.length ? D.marks[D.marks.length - 1][0] : end;
  const busy = Math.min(end, Math.max(lastMark, D.failure ? D.failure.time : 0) * 1.02 + 1);
  let t0 = 0, t1 = busy, width = 100, height = rows.length * LANE;
  let pinned = null;
  const x = (t) => (t - t0) / (t1 - t0) * width;
  const tAt = (px) => t0 + px / width * (t1 - t0);
  const laneY = (lane) => laneRow[lane] * LANE + LANE / 2;

  function resize() {
    width = Math.max(100, plot.clientWidth);
    const dpr = window.devicePixelRatio || 1;
    canvas.width = width * dpr; canvas.height = Math.max(height, 1) * dpr;
    canvas.style.width = width + "px"; canvas.style.height = height + "px";
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    overlay.setAttribute("width", width); overlay.setAttribute("height", height);
    const ov = $("overview");
    ov.width = ov.clientWidth * dpr; ov.height = 36 * dpr;
    draw();
  }

  function drawAxis() {
    const axis = $("axis");
    axis.textContent = "";
    const span = t1 - t0;
    let step = Math.pow(10, Math.floor(Math.log10(span / 6 || 1)));
    if (span / step > 12) step *= 5; else if (span / step > 6) step *= 2;
    for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
      const s = el("span", "", (t / 1e9).toFixed(Math.max(0, 9 - Math.floor(Math.log10(step)))) + "s");
      s.style.left = x(t) + "px";
      axis.appendChild(s);
    }
  }

  function shape(px, py, m) {
    const flags = m[4];
    ctx.fillStyle = COLORS[m[3]] || COLORS[7];
    if (flags & 2) { // injected fault: a magenta diamond
      ctx.fillStyle = "#c026d3";
      ctx.beginPath(); ctx.moveTo(px, py - 6); ctx.lineTo(px + 5, py); ctx.lineTo(px, py + 6); ctx.lineTo(px - 5, py); ctx.fill();
    } else if (flags & 1) { // error: a red triangle
      ctx.fillStyle = "#dc2626";
      ctx.beginPath(); ctx.moveTo(px, py - 6); ctx.lineTo(px + 5, py + 4); ctx.lineTo(px - 5, py + 4); ctx.fill();
    } else if (m[2] !== "call") { // process start, exec, exit, signal: a bar
      ctx.fillRect(px - 1.5, py - 7, 3, 14);
    } else {
      ctx.beginPath(); ctx.arc(px, py, 3, 0, 6.283); ctx.fill();
    }
  }

  function draw() {
    drawAxis();
    ctx.clearRect(0, 0, width, height);
    rows.forEach((r, i) => {
      if (r.node !== undefined) { ctx.fillStyle = "#eef2f7"; ctx.fillRect(0, i * LANE, width, LANE); }
      else if (i % 2) { ctx.fillStyle = "#fbfbfc"; ctx.fillRect(0, i * LANE, width, LANE); }
    });
    const perPx = (t1 - t0) / width;
    D.lanes.forEach((_, lane) => {
      const y = laneY(lane);
      ctx.fillStyle = "rgba(100,116,139,.35)";
      for (const s of spansByLane[lane]) {
        if (s[2] < t0 || s[1] > t1) continue;
        const a = Math.max(0, x(s[1])), b = Math.min(width, x(s[2]));
        ctx.fillStyle = COLORS[s[3]] + "55";
        ctx.fillRect(a, y - 3, Math.max(1, b - a), 6);
      }
      const ids = byLane[lane];
      const from = lower(ids, markT, t0), to = lower(ids, markT, t1 + perPx);
      if (to - from > width * 2) {
        // Too many to draw one by one: counts per pixel column.
        const counts = new Uint32Array(Math.ceil(width) + 1), worst = new Uint8Array(Math.ceil(width) + 1);
        for (let k = from; k < to; k++) {
          const m = D.marks[ids[k]], c = Math.floor(x(m[0]));
          counts[c]++; worst[c] |= m[4] & 3;
        }
        let max = 1; for (const c of counts) if (c > max) max = c;
        for (let c = 0; c < counts.length; c++) {
          if (!counts[c]) continue;
          const h = 2 + 12 * Math.log(1 + counts[c]) / Math.log(1 + max);
          ctx.fillStyle = worst[c] & 2 ? "#c026d3" : worst[c] & 1 ? "#dc2626" : "#475569";
          ctx.fillRect(c, y - h / 2, 1, h);
        }
      } else {
        for (let k = from; k < to; k++) {
          const m = D.marks[ids[k]];
          shape(x(m[0]), y, m);
        }
      }
    });
    drawOverlay();
    drawOverview();
  }

  function drawOverlay() {
    overlay.textContent = "";
    for (const b of D.bands) {
      if (b[1] < t0 || b[0] > t1) continue;
      const a = Math.max(0, x(b[0])), w = Math.max(2, Math.min(width, x(b[1])) - a);
      D.lanes.forEach((l, lane) => {
        if (!b[2].includes(l.node)) return;
        overlay.appendChild(svg("rect", { class: "band", x: a, y: laneRow[lane] * LANE, width: w, height: LANE }));
      });
      const t = svg("text", { class: "band-label", x: a + 2, y: 10 }); t.textContent = b[3];
      overlay.appendChild(t);
    }
    // Arrows in view; when they would cover the plot, an even sample of them (the
    // header says how many there are; zoom in to see each one).
    const inView = D.arrows.filter((a) => {
      const s = D.marks[a[0]], r = D.marks[a[1]];
      return Math.max(s[0], r[0]) >= t0 && Math.min(s[0], r[0]) <= t1;
    });
    const limit = Math.min(MAX_ARROWS, Math.max(40, Math.floor(width / 6)));
    const step = Math.max(1, Math.ceil(inView.length / limit));
    $("axis").dataset.arrows = inView.length + (step > 1 ? " (1 in " + step + " drawn)" : "");
    for (let k = 0; k < inView.length; k += step) {
      const a = inView[k], s = D.marks[a[0]], r = D.marks[a[1]];
      const cross = D.lanes[s[1]].node !== D.lanes[r[1]].node;
      overlay.appendChild(svg("line", {
        class: "arrow" + (cross ? " cross-node" : "") + (a[2] ? " connection" : ""),
        x1: x(s[0]), y1: laneY(s[1]), x2: x(r[0]), y2: laneY(r[1]),
      }));
    }
    D.snapshots.forEach((s, k) => {
      if (s.time < t0 || s.time > t1) return;
      const sx = x(s.time);
      const line = svg("line", { class: "snapshot-marker", x1: sx, y1: 0, x2: sx, y2: height });
      overlay.appendChild(line);
      const t = svg("text", { class: "snapshot-label", x: sx + 3, y: 20 });
      t.textContent = "snapshot " + (k + 1);
      t.addEventListener("click", () => { const b = $("snapshot-" + k); b.open = true; b.scrollIntoView(); });
      overlay.appendChild(t);
    });
    if (D.failure && D.failure.time >= t0 && D.failure.time <= t1) {
      const fx = x(D.failure.time);
      overlay.appendChild(svg("line", { class: "failure-marker", x1: fx, y1: 0, x2: fx, y2: height }));
      const left = fx > width - 60;
      const t = svg("text", { class: "failure-label", x: left ? fx - 4 : fx + 3, y: height - 4, "text-anchor": left ? "end" : "start" });
      t.textContent = "FAILED";
      overlay.appendChild(t);
    }
    if (pinned !== null) {
      const m = D.marks[pinned];
      overlay.appendChild(svg("circle", { class: "highlight", cx: x(m[0]), cy: laneY(m[1]), r: 7, fill: "none" }));
    }
  }

  function drawOverview() {
    const ov = $("overview"), c = ov.getContext("2d"), w = ov.width, h = ov.height;
    c.clearRect(0, 0, w, h);
    const cols = new Uint32Array(w), bad = new Uint8Array(w);
    for (const m of D.marks) { const k = Math.min(w - 1, Math.floor(m[0] / end * w)); cols[k]++; bad[k] |= m[4] & 2; }
    let max = 1; for (const v of cols) if (v > max) max = v;
    for (let k = 0; k < w; k++) {
      if (!cols[k]) continue;
      const hh = (h - 4) * Math.log(1 + cols[k]) / Math.log(1 + max);
      c.fillStyle = bad[k] ? "#c026d3" : "#94a3b8";
      c.fillRect(k, h - hh, 1, hh);
    }
    if (D.failure) { c.fillStyle = "#d00"; c.fillRect(Math.floor(D.failure.time / end * w), 0, 2, h); }
    c.fillStyle = "#0d9488";
    for (const s of D.snapshots) c.fillRect(Math.floor(s.time / end * w), 0, 2, h);
    c.strokeStyle = "#111"; c.lineWidth = 2;
    c.strokeRect(t0 / end * w, 1, Math.max(2, (t1 - t0) / end * w), h - 2);
  }

  // --- interaction ---------------------------------------------------------------------
  function setView(a, b) {
    const minSpan = 100; // ns
    if (b - a < minSpan) { const c = (a + b) / 2; a = c - minSpan / 2; b = c + minSpan / 2; }
    const span = Math.min(b - a, end * 1.05);
    a = Math.max(-end * 0.025, Math.min(a, end * 1.025 - span));
    t0 = a; t1 = a + span;
    draw();
  }
  function jumpTo(t, lane) {
    const span = Math.min(t1 - t0, end / 20 || 1000);
    setView(t - span / 2, t + span / 2);
    const ids = byLane[lane] || [];
    const k = Math.min(ids.length - 1, lower(ids, markT, t));
    if (k >= 0) show(ids[k], true);
  }
  plot.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const r = canvas.getBoundingClientRect(), at = tAt(ev.clientX - r.left);
    const f = Math.exp(ev.deltaY * 0.002);
    setView(at - (at - t0) * f, at + (t1 - at) * f);
  }, { passive: false });
  let drag = null;
  plot.addEventListener("mousedown", (ev) => { drag = { x: ev.clientX, a: t0, b: t1, moved: false }; plot.classList.add("dragging"); });
  window.addEventListener("mouseup", () => { plot.classList.remove("dragging"); setTimeout(() => { drag = null; }, 0); });
  window.addEventListener("mousemove", (ev) => {
    if (drag && ev.buttons) {
      const dt = (ev.clientX - drag.x) / width * (drag.b - drag.a);
      if (Math.abs(ev.clientX - drag.x) > 2) drag.moved = true;
      t0 = drag.a - dt; t1 = drag.b - dt; draw();
    }
  });
  $("overview").addEventListener("click", (ev) => {
    const r = ev.target.getBoundingClientRect(), t = (ev.clientX - r.left) / r.width * end, s = t1 - t0;
    setView(t - s / 2, t + s / 2);
  });
  function nearest(ev) {
    const r = canvas.getBoundingClientRect(), px = ev.clientX - r.left, py = ev.clientY - r.top;
    const row = rows[Math.floor(py / LANE)];
    if (!row || row.lane === undefined) return null;
    const ids = byLane[row.lane], t = tAt(px);
    let k = lower(ids, markT, t), best = null, dist = 6;
    for (const j of [k - 1, k]) {
      if (j < 0 || j >= ids.length) continue;
      const d = Math.abs(x(markT(ids[j])) - px);
      if (d <= dist) { dist = d; best = ids[j]; }
    }
    return best;
  }
  function describe(i) {
    const m = D.marks[i], l = D.lanes[m[1]], node = (D.nodes[l.node] || ["?"])[0];
    let s = fmt(m[0]) + "  " + node + "  " + l.pid + "/" + l.tid + "  " + m[5];
    if (m[4] & 2) s += "\ninjected fault";
    const links = D.arrows.filter((a) => a[0] === i || a[1] === i);
    for (const a of links) {
      const other = D.marks[a[0] === i ? a[1] : a[0]], ol = D.lanes[other[1]];
      s += "\n" + (a[0] === i ? (a[2] ? "connection accepted by " : "received by ") : (a[2] ? "connection from " : "sent by ")) +
        (D.nodes[ol.node] || ["?"])[0] + " " + ol.pid + "/" + ol.tid + " at " + fmt(other[0]);
    }
    return s;
  }
  function show(i, pin) {
    if (pin) { pinned = i; $("details").textContent = describe(i); drawOverlay(); }
  }
  plot.addEventListener("mousemove", (ev) => {
    if (drag && ev.buttons) { tip.hidden = true; return; }
    const i = nearest(ev);
    if (i === null) { tip.hidden = true; return; }
    const r = plot.getBoundingClientRect();
    tip.textContent = describe(i);
    tip.style.left = Math.min(ev.clientX - r.left + 12, width - 300) + "px";
    tip.style.top = (ev.clientY - r.top + 12) + "px";
    tip.hidden = false;
  });
  plot.addEventListener("mouseleave", () => { tip.hidden = true; });
  plot.addEventListener("click", (ev) => {
    if (drag && drag.moved) return;
    const i = nearest(ev);
    if (i !== null) show(i, true);
  });
  window.addEventListener("resize", resize);
  resize();
  // For tests and tools: what was drawn.
  document.body.dataset.lanes = D.lanes.length;
  document.body.dataset.ready = "1";
})();
