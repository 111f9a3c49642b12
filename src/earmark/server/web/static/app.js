/* earmark web app: uploads, live job status, small page helpers. Plain JavaScript, no
   framework; served from this server only (Content-Security-Policy: script-src 'self'). */
"use strict";
(function () {
  const csrf = document.body.dataset.csrf || "";

  function widths(root) {
    root.querySelectorAll("[data-width]").forEach(function (el) {
      const v = Math.max(0, Math.min(1, parseFloat(el.dataset.width) || 0));
      el.style.width = (v * 100).toFixed(1) + "%";
    });
  }

  function errorText(xhrText, status) {
    try {
      const body = JSON.parse(xhrText);
      if (body && body.error) return body.error;
    } catch (e) { /* not JSON */ }
    return "The server answered " + status;
  }

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function upload(file, onProgress) {
    return new Promise(function (resolve, reject) {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", "/v2/upload");
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.upload.onprogress = function (ev) { if (ev.lengthComputable) onProgress(ev.loaded / ev.total); };
      xhr.onload = function () {
        if (xhr.status >= 200 && xhr.status < 300) resolve(JSON.parse(xhr.responseText).upload_url);
        else reject(new Error(errorText(xhr.responseText, xhr.status)));
      };
      xhr.onerror = function () { reject(new Error("The upload was interrupted (network error)")); };
      xhr.send(file);
    });
  }

  async function postJSON(url, body) {
    const res = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(errorText(text, res.status));
    return JSON.parse(text);
  }

  function requestBody(form, audioUrl) {
    const f = form.elements;
    const body = { audio_url: audioUrl };
    const tags = f.custom_tags.value;
    if (tags) body.custom_tags = f.engine.value === "embedding" ? tags : { tags: tags, engine: f.engine.value };
    const lang = f.language.value;
    if (lang === "auto") body.language_detection = true;
    else body.language_code = lang === "other" ? f.language_code.value.trim() : lang;
    if (f.speaker_labels.checked) body.speaker_labels = true;
    if (f.multichannel.checked) body.multichannel = true;
    if (f.redact_pii.checked) {
      body.redact_pii = true;
      body.redact_pii_policies = ["person_name", "phone_number", "email_address", "credit_card_number"];
    }
    return body;
  }

  async function poll(id, state, item) {
    let wait = 700;
    for (;;) {
      await new Promise(function (r) { setTimeout(r, wait); });
      wait = Math.min(3000, wait * 1.3);
      let job;
      try {
        const res = await fetch("/web/api/transcripts/" + encodeURIComponent(id), { credentials: "same-origin" });
        job = await res.json();
        if (!res.ok) throw new Error(job.error || ("status " + res.status));
      } catch (e) {
        state.textContent = "Could not read the job's status: " + e.message;
        continue;
      }
      state.textContent = { queued: "Waiting for a worker…", processing: "Transcribing…",
        completed: "Done", error: "Failed" }[job.status] || job.status;
      if (job.status === "completed") {
        const a = el("a", "", "Open the transcript");
        a.href = job.url;
        item.appendChild(a);
        item.dataset.done = "completed";
        return;
      }
      if (job.status === "error") {
        item.appendChild(el("p", "error", job.error || "Transcription failed"));
        item.dataset.done = "error";
        return;
      }
    }
  }

  async function run(form, file, list) {
    const item = el("li");
    item.appendChild(el("div", "", file.name));
    const bar = el("progress");
    bar.max = 1; bar.value = 0;
    bar.setAttribute("aria-label", "Upload of " + file.name);
    item.appendChild(bar);
    const state = el("div", "state", "Uploading…");
    item.appendChild(state);
    list.appendChild(item);
    try {
      const url = await upload(file, function (p) { bar.value = p; state.textContent = "Uploading… " + Math.round(p * 100) + "%"; });
      bar.value = 1;
      state.textContent = "Uploaded; starting the job…";
      const job = await postJSON("/v2/transcript", requestBody(form, url));
      item.dataset.id = job.id;
      postJSON("/web/api/transcripts/" + encodeURIComponent(job.id) + "/title", { title: file.name }).catch(function () {});
      state.textContent = "Waiting for a worker…";
      await poll(job.id, state, item);
    } catch (e) {
      state.textContent = "Failed";
      item.appendChild(el("p", "error", e.message));
      item.dataset.done = "error";
    }
  }

  function newPage() {
    const form = document.getElementById("new-form");
    if (!form) return;
    const input = document.getElementById("files");
    const drop = document.getElementById("drop");
    const chosen = document.getElementById("chosen");
    const start = document.getElementById("start");
    const lang = document.getElementById("language");
    let files = [];
    function show() {
      chosen.textContent = "";
      files.forEach(function (f) { chosen.appendChild(el("li", "", f.name + " (" + (f.size / 1e6).toFixed(1) + " MB)")); });
      start.disabled = files.length === 0;
    }
    input.addEventListener("change", function () { files = Array.from(input.files || []); show(); });
    ["dragenter", "dragover"].forEach(function (t) {
      drop.addEventListener(t, function (ev) { ev.preventDefault(); drop.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (t) {
      drop.addEventListener(t, function () { drop.classList.remove("over"); });
    });
    drop.addEventListener("drop", function (ev) {
      ev.preventDefault();
      files = Array.from(ev.dataTransfer.files || []);
      show();
    });
    lang.addEventListener("change", function () {
      document.getElementById("code-field").hidden = lang.value !== "other";
    });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (!files.length) return;
      const list = document.getElementById("jobs");
      document.getElementById("jobs-empty").hidden = true;
      const todo = files;
      files = []; input.value = ""; show();
      todo.forEach(function (f) { run(form, f, list); });
    });
  }

  function pendingPage() {
    const box = document.querySelector("[data-poll]");
    if (!box) return;
    const status = document.getElementById("poll-status");
    const id = box.dataset.poll;
    async function tick() {
      try {
        const res = await fetch("/web/api/transcripts/" + encodeURIComponent(id), { credentials: "same-origin" });
        const job = await res.json();
        if (job.status && status.textContent !== job.status) status.textContent = job.status;
        if (job.status === "completed" || job.status === "error") { location.reload(); return; }
      } catch (e) { /* try again */ }
      setTimeout(tick, 1500);
    }
    if (status.textContent !== "error") setTimeout(tick, 1000);
  }

  function importers() {
    document.querySelectorAll("input[type=file][data-import]").forEach(function (input) {
      input.addEventListener("change", function () {
        const file = input.files && input.files[0];
        const target = document.getElementById(input.dataset.import);
        if (!file || !target) return;
        file.text().then(function (text) {
          target.value = text;
          const name = document.getElementById("list-name");
          if (name && !name.value) name.value = file.name.replace(/\.(ya?ml|json)$/i, "");
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    widths(document);
    newPage();
    pendingPage();
    importers();
  });
  window.earmark = { widths: widths };
})();
