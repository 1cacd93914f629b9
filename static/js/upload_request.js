// The page of an upload link (views/upload_requests.templ): files picked or
// dropped go straight to storage with the upload protocol, through the
// request's own endpoints (data-api): initiate, one PUT or the parts one
// after another, complete. A small sibling of upload.js (the file browser's
// module, with resume and parallel parts) for people without an account.

const input = document.getElementById("request-files");
const drop = document.getElementById("request-drop");
const list = document.getElementById("request-list");
const template = document.getElementById("request-item");

if (input && list && template) {
  const api = input.dataset.api;
  let queue = Promise.resolve();

  const add = (files) => {
    for (const file of files) {
      const item = template.content.firstElementChild.cloneNode(true);
      item.querySelector("[data-name]").textContent = file.name;
      list.append(item);
      queue = queue.then(() => send(file, item));
    }
  };
  input.addEventListener("change", () => {
    add(input.files);
    input.value = "";
  });
  drop?.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.dataset.over = "";
  });
  drop?.addEventListener("dragleave", () => delete drop.dataset.over);
  drop?.addEventListener("drop", (e) => {
    e.preventDefault();
    delete drop.dataset.over;
    add(e.dataTransfer.files);
  });

  // call sends JSON to the request's endpoints; a refusal throws its detail.
  async function call(method, path, body) {
    const res = await fetch(api + path, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
    if (res.status === 204) return null;
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.detail || `The server answered ${res.status}.`);
    return data;
  }

  // put sends one body to a presigned URL with exactly its headers,
  // reporting progress; it resolves to the ETag.
  function put(url, headers, body, progress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", url);
      for (const [k, v] of Object.entries(headers || {})) xhr.setRequestHeader(k, v);
      xhr.upload.onprogress = (e) => progress(e.loaded);
      xhr.onload = () =>
        xhr.status >= 200 && xhr.status < 300 ? resolve(xhr.getResponseHeader("ETag")) : reject(new Error(`Storage answered ${xhr.status}.`));
      xhr.onerror = () => reject(new Error("The connection failed."));
      xhr.send(body);
    });
  }

  async function send(file, item) {
    const bar = item.querySelector("progress");
    const status = item.querySelector("[data-status]");
    const show = (state, text, pct) => {
      item.dataset.state = state;
      status.dataset.state = state;
      status.textContent = text;
      if (pct !== undefined) bar.value = pct;
    };
    let id = null;
    try {
      show("uploading", "Starting…");
      const u = await call("POST", "", { name: file.name, size: file.size, content_type: file.type });
      id = u.id;
      const report = (done) => show("uploading", `Uploading… ${Math.floor((done * 100) / Math.max(file.size, 1))} %`, (done * 100) / Math.max(file.size, 1));
      let parts;
      if (u.mode === "single") {
        await put(u.url, u.headers, file, report);
      } else {
        parts = [];
        let sent = 0;
        for (let n = 1; n * u.part_size - u.part_size < file.size; n++) {
          let p = u.parts.find((x) => x.number === n);
          if (!p) p = (await call("POST", `/${id}/parts`, { numbers: [n] })).parts[0];
          const blob = file.slice((n - 1) * u.part_size, n * u.part_size);
          const etag = await put(p.url, p.headers, blob, (done) => report(sent + done));
          sent += blob.size;
          parts.push({ number: n, etag });
        }
      }
      show("uploading", "Checking…", 100);
      await call("POST", `/${id}/complete`, parts ? { parts } : undefined);
      show("done", "Sent.", 100);
    } catch (err) {
      show("error", err.message);
      if (id) call("DELETE", `/${id}`).catch(() => {});
    }
  }
}
