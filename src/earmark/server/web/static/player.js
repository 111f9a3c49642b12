/* earmark transcript page: the player and the words. Paragraphs arrive as plain text;
   their words become clickable elements only when a paragraph comes near the screen
   (IntersectionObserver), so an hour-long transcript opens as fast as a short one. */
"use strict";
(function () {
  const player = document.getElementById("player");
  const box = document.getElementById("transcript");
  if (!box) return;
  const paras = Array.from(box.querySelectorAll(".para"));
  let words = null;            // [[ [start, end, text], ... ] per paragraph]
  let starts = [], owner = [], offset = [];
  const built = new Set();
  let current = -1;

  function seek(ms, play) {
    if (!player) return;
    player.currentTime = ms / 1000;
    if (play && player.paused) player.play().catch(function () {});
  }

  function hydrate(i) {
    if (!words || built.has(i) || !words[i]) return;
    built.add(i);
    const p = paras[i].querySelector(".words");
    const frag = document.createDocumentFragment();
    words[i].forEach(function (w, k) {
      if (k) frag.appendChild(document.createTextNode(" "));
      const s = document.createElement("span");
      s.className = "w";
      s.dataset.start = String(w[0]);
      s.dataset.idx = String(offset[i] + k);
      s.textContent = w[2];
      frag.appendChild(s);
    });
    p.textContent = "";
    p.appendChild(frag);
  }

  function wordEl(idx) {
    const i = owner[idx];
    hydrate(i);
    return paras[i].querySelector('.w[data-idx="' + idx + '"]');
  }

  function indexAt(ms) {
    let lo = 0, hi = starts.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= ms) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return found;
  }

  function highlight(idx, follow) {
    if (idx === current) return;
    if (current >= 0) { const old = wordEl(current); if (old) old.classList.remove("now"); }
    current = idx;
    if (idx < 0) return;
    const node = wordEl(idx);
    if (!node) return;
    node.classList.add("now");
    if (follow) {
      const r = node.getBoundingClientRect();
      const top = document.querySelector(".player-wrap");
      const min = top ? top.getBoundingClientRect().bottom : 0;
      if (r.top < min || r.bottom > window.innerHeight) node.scrollIntoView({ block: "center" });
    }
  }

  function bands() {
    const line = document.getElementById("timeline");
    if (!line) return;
    const total = parseFloat(line.dataset.duration) || 1;
    line.querySelectorAll(".band").forEach(function (b) {
      const s = parseFloat(b.dataset.start), e = parseFloat(b.dataset.end);
      b.style.left = (100 * s / total).toFixed(3) + "%";
      b.style.width = (100 * Math.max(e - s, total / 1000) / total).toFixed(3) + "%";
      b.addEventListener("click", function () {
        seek(s, false);
        const scope = document.getElementById("scope");
        if (scope) scope.value = b.dataset.scope;
      });
    });
  }

  function markBand(ms) {
    document.querySelectorAll("#timeline .band").forEach(function (b) {
      const on = ms >= parseFloat(b.dataset.start) && ms < parseFloat(b.dataset.end);
      b.classList.toggle("on", on);
    });
  }

  function tick() {
    if (!player || !words) return;
    const ms = player.currentTime * 1000;
    highlight(indexAt(ms), !player.paused);
    markBand(ms);
  }

  box.addEventListener("click", function (ev) {
    const w = ev.target.closest(".w");
    if (w) { seek(parseInt(w.dataset.start, 10), true); highlight(parseInt(w.dataset.idx, 10), false); return; }
    const p = ev.target.closest(".words");
    if (p) seek(parseInt(p.parentElement.dataset.start, 10), true);
  });
  document.addEventListener("click", function (ev) {
    const b = ev.target.closest("[data-seek]");
    if (b) seek(parseInt(b.dataset.seek, 10), true);
  });

  document.addEventListener("keydown", function (ev) {
    const t = ev.target;
    const typing = t.closest("input, textarea, select, button, a, audio, video, [contenteditable]");
    if (typing && t !== box) return;
    if (ev.key === " " || ev.code === "Space") {
      if (!player) return;
      ev.preventDefault();
      if (player.paused) player.play().catch(function () {}); else player.pause();
    } else if ((ev.key === "ArrowRight" || ev.key === "ArrowLeft") && t === box && starts.length) {
      ev.preventDefault();
      const next = Math.max(0, Math.min(starts.length - 1, current + (ev.key === "ArrowRight" ? 1 : -1)));
      seek(starts[next], false);
      highlight(next, true);
    }
  });

  function startAt() {
    const m = /(?:^|[#&])t=([0-9.]+)/.exec(location.hash);
    const t = m ? m[1] : box.dataset.startAt;
    return t ? parseFloat(t) * 1000 : null;
  }

  function load() {
    fetch(box.dataset.words, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
      words = data.p || [];
      let n = 0;
      words.forEach(function (ws, i) {
        offset[i] = n;
        ws.forEach(function (w) { starts.push(w[0]); owner.push(i); n++; });
      });
      const io = new IntersectionObserver(function (entries) {
        entries.forEach(function (e) { if (e.isIntersecting) hydrate(parseInt(e.target.dataset.i, 10)); });
      }, { rootMargin: "800px 0px" });
      paras.forEach(function (p) { io.observe(p); });
      box.dataset.ready = String(Math.round(performance.now()));
      const at = startAt();
      if (at !== null) {
        highlight(indexAt(at), true);
        if (player) {
          if (player.readyState >= 1) seek(at, false);
          else player.addEventListener("loadedmetadata", function () { seek(at, false); }, { once: true });
        }
      }
    });
  }

  if (player) {
    player.addEventListener("timeupdate", tick);
    player.addEventListener("seeked", tick);
    let raf = 0;
    const loop = function () { tick(); raf = player.paused ? 0 : requestAnimationFrame(loop); };
    player.addEventListener("play", function () { if (!raf) raf = requestAnimationFrame(loop); });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { bands(); load(); });
  } else { bands(); load(); }
})();
