// The flow editor: save / publish through the flows API, problems shown by their node.
const data = JSON.parse(document.getElementById("page-data").textContent);
const doc = document.getElementById("flow-doc");
const form = document.getElementById("flow-form");
const nodesList = document.getElementById("flow-nodes");
const problemsBox = document.getElementById("flow-problems");
const result = document.getElementById("flow-result");
const api = `/api/v1/hotlines/${data.hotline_id}/flows`;
const headers = { "Content-Type": "application/json", "X-Requested-With": "fetch" };

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

/** The node list beside the editor, each node with the problems that concern it. */
function showNodes(document_, problems) {
  nodesList.replaceChildren();
  problemsBox.replaceChildren();
  const byNode = new Map();
  const general = [];
  for (const p of problems) {
    if (p.node && document_?.nodes && p.node in document_.nodes) {
      if (!byNode.has(p.node)) byNode.set(p.node, []);
      byNode.get(p.node).push(p);
    } else general.push(p);
  }
  for (const [id, node] of Object.entries(document_?.nodes ?? {})) {
    const mine = byNode.get(id) ?? [];
    const li = el("li", { class: mine.length ? "node bad" : "node", "data-node": id, id: `node-${id}` });
    li.append(el("strong", {}, id), " ", el("span", { class: "muted" }, node?.type ?? "?"));
    for (const p of mine) {
      li.append(el("p", { class: "error node-problem", "data-path": p.path }, `${p.path}: ${p.message}`));
    }
    nodesList.append(li);
  }
  if (problems.length) {
    problemsBox.append(el("p", { class: "error" }, `${data.problems}: ${problems.length}`));
    for (const p of general) {
      problemsBox.append(el("p", { class: "error", "data-path": p.path }, p.path ? `${p.path}: ${p.message}` : p.message));
    }
  }
}

function parse() {
  try {
    return { value: JSON.parse(doc.value) };
  } catch (err) {
    return { error: err.message };
  }
}

function refresh() {
  const parsed = parse();
  if (parsed.value) showNodes(parsed.value, []);
}

async function send(url, body) {
  const response = await fetch(url, { method: "POST", headers, body: body && JSON.stringify(body), credentials: "same-origin" });
  const payload = await response.json().catch(() => ({}));
  return { ok: response.ok, status: response.status, payload };
}

function report(outcome, parsed) {
  if (outcome.ok) {
    showNodes(parsed, []);
    const v = outcome.payload.version;
    result.textContent = `${outcome.payload.published_at ? data.published : data.saved} ${v}`;
    setTimeout(() => window.location.reload(), 600);
    return;
  }
  result.textContent = "";
  const details = Array.isArray(outcome.payload.details) ? outcome.payload.details : [];
  const problems = details.map((d) => ({ path: d.path ?? (d.loc ?? []).join("."), node: d.node ?? null, message: d.message ?? d.msg ?? "" }));
  if (!problems.length) problems.push({ path: "", node: null, message: outcome.payload.message ?? `HTTP ${outcome.status}` });
  showNodes(parsed, problems);
  doc.setAttribute("aria-invalid", "true");
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const publish = event.submitter?.value === "publish";
  const parsed = parse();
  if (parsed.error) {
    showNodes(null, [{ path: "", node: null, message: `${data.bad_json}: ${parsed.error}` }]);
    doc.setAttribute("aria-invalid", "true");
    return;
  }
  doc.removeAttribute("aria-invalid");
  const comment = document.getElementById("flow-comment").value;
  report(await send(api, { document: parsed.value, comment, publish }), parsed.value);
});

document.getElementById("flow-versions")?.addEventListener("click", async (event) => {
  const button = event.target.closest("button.restore");
  if (!button) return;
  const parsed = parse();
  report(await send(`${api}/${button.dataset.version}/publish`), parsed.value ?? null);
});

doc.addEventListener("input", () => { if (!doc.hasAttribute("aria-invalid")) refresh(); });
refresh();
